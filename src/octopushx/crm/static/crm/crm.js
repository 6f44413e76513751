// OctoCRM behaviours: "/" focuses the global search and arrow keys walk its results, select-all,
// bulk actions, drag and drop on the pipeline board. No inline scripts (CSP); everything hangs on data-attributes.
(() => {
  const csrfToken = () => {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (error) {
      return "";
    }
  };

  document.addEventListener("keydown", (event) => {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    if (target.closest("input, textarea, select, [contenteditable]")) return;
    const box = document.querySelector("[data-global-search]");
    if (box) {
      event.preventDefault();
      box.focus();
      box.select();
    }
  });

  document.addEventListener("DOMContentLoaded", () => {
    // The search box's results: arrow keys walk them, Enter opens one, Escape or a click elsewhere
    // closes them.
    const search = document.querySelector("[data-global-search]");
    const results = document.getElementById("crm-search-results");
    if (search && results) {
      const form = search.closest("form");
      form.addEventListener("keydown", (event) => {
        const hits = [...results.querySelectorAll("a")];
        const at = hits.indexOf(document.activeElement);
        if ((event.key === "ArrowDown" || event.key === "ArrowUp") && hits.length) {
          event.preventDefault();
          const next = event.key === "ArrowDown" ? Math.min(at + 1, hits.length - 1) : at - 1;
          (next < 0 ? search : hits[next]).focus();
        } else if (event.key === "Escape" && results.childElementCount) {
          event.stopPropagation();
          results.replaceChildren();
          search.focus();
        }
      });
      document.addEventListener("click", (event) => {
        if (!form.contains(event.target)) results.replaceChildren();
      });
    }

    document.querySelectorAll("[data-select-all]").forEach((box) => {
      box.addEventListener("change", () => {
        box.closest("form").querySelectorAll('input[name="ids"]').forEach((item) => { item.checked = box.checked; });
        box.closest("form").dispatchEvent(new Event("selection"));
      });
    });

    document.querySelectorAll("form[data-bulk]").forEach((form) => {
      // Only the control the chosen action needs (owner, tag or stage), and how many rows it will touch.
      const action = form.querySelector('[name="action"]');
      const showControls = () => {
        form.querySelectorAll("[data-bulk-for]").forEach((control) => {
          control.hidden = !control.dataset.bulkFor.split(" ").includes(action.value);
        });
      };
      const count = form.querySelector("[data-selected-count]");
      const showCount = () => {
        const chosen = form.querySelectorAll('input[name="ids"]:checked').length;
        if (count) count.textContent = chosen ? `${chosen} selected` : "";
      };
      if (action) {
        action.addEventListener("change", showControls);
        showControls();
      }
      form.addEventListener("change", showCount);
      form.addEventListener("selection", showCount);
      form.addEventListener("submit", (event) => {
        const action = form.querySelector('[name="action"]');
        const chosen = form.querySelectorAll('input[name="ids"]:checked').length;
        if (!chosen) {
          event.preventDefault();
          window.alert("Select at least one row first.");
        }
        if (action && action.value === "delete" && chosen && !window.confirm(`Delete ${chosen} record(s)?`)) {
          event.preventDefault();
        }
      });
    });

    const board = document.querySelector("[data-board]");
    if (!board) return;
    const status = document.getElementById("board-status");
    let dragged = null;
    board.querySelectorAll(".board-card[draggable]").forEach((card) => {
      card.addEventListener("dragstart", (event) => {
        dragged = card;
        card.classList.add("dragging");
        event.dataTransfer.effectAllowed = "move";
        event.dataTransfer.setData("text/plain", card.dataset.dealId);
      });
      card.addEventListener("dragend", () => { card.classList.remove("dragging"); dragged = null; });
    });
    board.querySelectorAll("[data-stage-id]").forEach((column) => {
      column.addEventListener("dragover", (event) => { event.preventDefault(); column.classList.add("drop-target"); });
      column.addEventListener("dragleave", () => column.classList.remove("drop-target"));
      column.addEventListener("drop", async (event) => {
        event.preventDefault();
        column.classList.remove("drop-target");
        if (!dragged) return;
        const card = dragged;
        const from = card.closest("[data-stage-id]");
        if (from === column) return;
        column.querySelector(".board-cards").prepend(card);
        const body = new URLSearchParams({ stage_id: column.dataset.stageId });
        try {
          const response = await fetch(card.dataset.moveUrl, {
            method: "POST",
            headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
            body,
            credentials: "same-origin",
          });
          const data = await response.json();
          if (!response.ok) throw new Error(data.detail || "The deal was not moved");
          Object.entries(data.totals).forEach(([stageId, totals]) => {
            const target = board.querySelector(`[data-stage-id="${stageId}"]`);
            if (!target) return;
            target.querySelector("[data-count]").textContent = totals.count;
            target.querySelector("[data-total]").textContent = totals.total;
          });
          const select = card.querySelector('select[name="stage_id"]');
          if (select) select.value = column.dataset.stageId;
          if (status) status.textContent = "Moved.";
        } catch (error) {
          from.querySelector(".board-cards").prepend(card);
          if (status) status.textContent = error.message;
        }
      });
    });
  });
})();
