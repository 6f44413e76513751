// OctoCRM behaviours: the lists' selection and bulk bar, keyboard walking through a list, and the
// pipeline board (drag and drop with SortableJS, the card menu's "Move to", one stage at a time on a
// phone). No inline scripts (CSP); everything hangs on data-attributes.
(() => {
  const csrfToken = () => {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (error) {
      return "";
    }
  };

  const setUpList = () => {
    document.querySelectorAll("[data-select-all]").forEach((box) => {
      box.addEventListener("change", () => {
        box.closest("form").querySelectorAll('input[name="ids"]').forEach((item) => { item.checked = box.checked; });
        box.closest("form").dispatchEvent(new Event("selection"));
      });
    });

    document.querySelectorAll("form[data-bulk]").forEach((form) => {
      // The bar shows only while rows are selected; it offers only the control the chosen action
      // needs (owner, tag or stage), and says how many rows it will touch.
      const bar = form.querySelector("[data-bulk-bar]");
      const action = form.querySelector('[name="action"]');
      const count = form.querySelector("[data-selected-count]");
      const selectAll = form.querySelector("[data-select-all]");
      const boxes = () => [...form.querySelectorAll('input[name="ids"]')];
      const showControls = () => {
        form.querySelectorAll("[data-bulk-for]").forEach((control) => {
          control.hidden = !control.dataset.bulkFor.split(" ").includes(action.value);
        });
      };
      const showSelection = () => {
        const all = boxes();
        const chosen = all.filter((box) => box.checked).length;
        if (count) count.textContent = chosen ? `${chosen} selected` : "";
        if (bar) bar.hidden = chosen === 0;
        if (selectAll) {
          selectAll.checked = chosen > 0 && chosen === all.length;
          selectAll.indeterminate = chosen > 0 && chosen < all.length;
        }
        all.forEach((box) => box.closest("tr")?.classList.toggle("table-active", box.checked));
      };
      if (action) {
        action.addEventListener("change", showControls);
        showControls();
      }
      form.addEventListener("change", showSelection);
      form.addEventListener("selection", showSelection);
      form.querySelector("[data-clear-selection]")?.addEventListener("click", () => {
        boxes().forEach((box) => { box.checked = false; });
        showSelection();
        selectAll?.focus();
      });
      showSelection(); // a page restored from the history may come back with rows ticked
      form.addEventListener("submit", (event) => {
        const chosen = boxes().filter((box) => box.checked).length;
        if (!chosen) {
          event.preventDefault();
          window.alert("Select at least one row first.");
        }
        if (action && action.value === "delete" && chosen && !window.confirm(`Delete ${chosen} record(s)?`)) {
          event.preventDefault();
        }
      });
    });

    // Up and down arrows walk the records' links; the focus is always visible.
    document.querySelectorAll("[data-list-table]").forEach((table) => {
      table.addEventListener("keydown", (event) => {
        if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
        const link = event.target.closest(".record-link");
        if (!link) return;
        const links = [...table.querySelectorAll(".record-link")];
        const next = links[links.indexOf(link) + (event.key === "ArrowDown" ? 1 : -1)];
        if (next) {
          event.preventDefault();
          next.focus();
        }
      });
    });
  };

  // Inline editing in a list (owner, lifecycle): a refusal (400) shows its message in the cell;
  // Escape cancels; after saving or cancelling, the focus goes back to the cell's button.
  document.addEventListener("htmx:beforeSwap", (event) => {
    if (event.detail.xhr.status === 400 && event.detail.elt.closest("td")?.querySelector("[data-inline-edit]")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
  document.addEventListener("htmx:afterSwap", (event) => {
    const cell = event.detail.target;
    if (!(cell instanceof HTMLTableCellElement)) return;
    const editor = cell.querySelector("[data-inline-edit] select");
    (editor || cell.querySelector(".cell-edit"))?.focus();
  });
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    const cancel = event.target.closest?.("[data-inline-edit]")?.querySelector("[data-cell-cancel]");
    if (cancel) {
      event.preventDefault();
      cancel.click();
    }
  });

  const setUpBoard = (board) => {
    const status = document.getElementById("board-status");
    const say = (text) => { if (status) status.textContent = text; };
    const columnOf = (stageId) => board.querySelector(`[data-stage-id="${stageId}"]`);

    const showTotals = (totals) => {
      Object.entries(totals).forEach(([stageId, totals]) => {
        const column = columnOf(stageId);
        if (!column) return;
        column.querySelector("[data-count]").textContent = totals.count;
        column.querySelector("[data-count-word]").textContent = totals.count === 1 ? "deal" : "deals";
        column.querySelector("[data-total]").textContent = totals.text;
        const tab = document.querySelector(`[data-count-of="${stageId}"]`);
        if (tab) tab.textContent = totals.count;
      });
    };

    // A moved card has just entered its stage: 0 days, not stale; its menu offers the other stages.
    const markMoved = (card, stageId) => {
      card.classList.remove("is-stale");
      card.querySelector(".board-card-foot .badge")?.remove();
      const days = card.querySelector("[data-days]");
      if (days) days.firstChild.textContent = "0d";
      card.querySelectorAll('[data-move-form] [name="stage_id"]').forEach((item) => {
        const current = item.value === stageId;
        item.disabled = current;
        if (current) item.setAttribute("aria-current", "true");
        else item.removeAttribute("aria-current");
      });
    };

    // Saves the move; the card is already where it goes. On refusal it goes back where it was.
    const move = async (card, to, from, nextSibling) => {
      const name = card.querySelector(".board-card-title").textContent.trim();
      try {
        const response = await fetch(card.dataset.moveUrl, {
          method: "POST",
          headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
          body: new URLSearchParams({ stage_id: to.dataset.stageId }),
          credentials: "same-origin",
        });
        const data = await response.json().catch(() => ({}));
        if (!response.ok) {
          const reasons = Object.values(data.errors || {}).flat().join(" ");
          throw new Error(`${data.detail || "The deal was not moved"}${reasons ? `: ${reasons}` : "."}`);
        }
        showTotals(data.totals);
        markMoved(card, to.dataset.stageId);
        say(`Moved “${name}” to ${to.dataset.stageName}.`);
        return true;
      } catch (error) {
        from.querySelector(".board-cards").insertBefore(card, nextSibling && nextSibling.parentNode ? nextSibling : null);
        say(error.message || "The deal was not moved.");
        return false;
      }
    };

    // Drag and drop between stages (SortableJS: mouse, touch and pen).
    if (window.Sortable) {
      board.querySelectorAll(".board-cards").forEach((list) => {
        window.Sortable.create(list, {
          group: "deals",
          sort: false,
          animation: 150,
          draggable: ".board-card[data-move-url]",
          filter: ".board-card-menu",
          preventOnFilter: false,
          delayOnTouchOnly: true,
          delay: 150,
          onEnd: (event) => {
            if (event.from === event.to) return;
            const from = event.from.closest("[data-stage-id]");
            const to = event.to.closest("[data-stage-id]");
            const before = event.from.children[event.oldIndex] || null;
            move(event.item, to, from, before);
          },
        });
      });
    }

    // The card menu's "Move to …": the keyboard and phone way to move a deal.
    board.querySelectorAll("[data-move-form]").forEach((form) => {
      form.addEventListener("submit", async (event) => {
        const chosen = event.submitter;
        if (!chosen || chosen.name !== "stage_id") return;
        event.preventDefault();
        const card = form.closest(".board-card");
        const from = card.closest("[data-stage-id]");
        const to = columnOf(chosen.value);
        if (!to || to === from) return;
        const toggle = card.querySelector('[data-bs-toggle="dropdown"]');
        if (window.bootstrap && toggle) window.bootstrap.Dropdown.getOrCreateInstance(toggle).hide();
        const before = card.nextElementSibling;
        to.querySelector(".board-cards").prepend(card);
        if (await move(card, to, from, before)) {
          scrollToStage(to, false);
        }
        toggle?.focus();
      });
    });

    // On a phone one stage fills the board: the stage tabs bring one into view and follow the scrolling.
    const links = [...document.querySelectorAll("[data-stage-link]")];
    const markStage = (stageId) => {
      links.forEach((link) => {
        const current = link.dataset.stageLink === stageId;
        link.classList.toggle("active", current);
        if (current) link.setAttribute("aria-current", "true");
        else link.removeAttribute("aria-current");
      });
    };
    function scrollToStage(column, smooth = true) {
      if (board.scrollWidth <= board.clientWidth) return;
      board.scrollTo({ left: column.offsetLeft - board.offsetLeft, behavior: smooth ? "smooth" : "auto" });
      markStage(column.dataset.stageId);
    }
    links.forEach((link) => {
      link.addEventListener("click", (event) => {
        const column = columnOf(link.dataset.stageLink);
        if (!column) return;
        event.preventDefault();
        scrollToStage(column);
        link.scrollIntoView({ block: "nearest", inline: "nearest" });
      });
    });
    if (links.length && "IntersectionObserver" in window) {
      const observer = new IntersectionObserver((entries) => {
        entries.filter((entry) => entry.isIntersecting).forEach((entry) => markStage(entry.target.dataset.stageId));
      }, { root: board, threshold: 0.6 });
      board.querySelectorAll("[data-stage-id]").forEach((column) => observer.observe(column));
    }
  };

  document.addEventListener("DOMContentLoaded", () => {
    setUpList();
    const board = document.querySelector("[data-board]");
    if (board) setUpBoard(board);
  });
})();
