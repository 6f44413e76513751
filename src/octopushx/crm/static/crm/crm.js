// OctoCRM behaviours: select-all,
// bulk actions, drag and drop on the pipeline board. No inline scripts (CSP); everything hangs on data-attributes.
(() => {
  const csrfToken = () => {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (error) {
      return "";
    }
  };

  document.addEventListener("DOMContentLoaded", () => {
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
