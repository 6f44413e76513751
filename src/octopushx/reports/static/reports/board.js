// A custom dashboard's editor: drag cards to reorder (SortableJS), resize (sm/md/lg), move with the
// keyboard, remove; each change saves the whole widget list (PATCH /api/v1/dashboards/{id}).
// Settings (name, description, sharing), adding a widget and deleting the dashboard use the same API.
(() => {
  const ui = window.reportsUi;
  const readJson = (id) => JSON.parse(document.getElementById(id)?.textContent || "null");
  const config = readJson("board-config");
  if (!config) return;
  const board = document.querySelector("[data-board]");
  const toast = document.querySelector("[data-toast]");
  const say = (text, tone) => {
    toast.textContent = text;
    toast.dataset.tone = tone || "";
    toast.hidden = false;
    clearTimeout(say.timer);
    say.timer = setTimeout(() => {
      toast.hidden = true;
    }, 4000);
  };
  const cards = () => [...(board?.querySelectorAll("[data-widget-id]") || [])];
  const layout = () => cards().map((card) => ({ id: card.dataset.widgetId, size: card.dataset.size }));

  let saving = Promise.resolve();
  const save = (message) => {
    saving = saving.then(async () => {
      const answer = await ui.api("PATCH", config.api, { widgets: layout() });
      if (answer.ok) say(message || "Layout saved.");
      else say(ui.problem(answer, "The layout was not saved; reload the page."), "bad");
    });
    return saving;
  };
  const redraw = (card) => {
    card.querySelectorAll("[data-report-chart]").forEach((chart) => window.echarts?.getInstanceByDom(chart)?.resize());
  };

  if (board && board.classList.contains("report-grid-editing")) {
    if (window.Sortable) {
      window.Sortable.create(board, {
        animation: 150,
        handle: "[data-drag-handle]",
        draggable: "[data-widget-id]",
        ghostClass: "report-card-ghost",
        onEnd: (event) => {
          if (event.oldIndex !== event.newIndex) save("Order saved.");
        },
      });
    }
    board.addEventListener("click", (event) => {
      const card = event.target.closest("[data-widget-id]");
      if (!card) return;
      const resize = event.target.closest("[data-resize]");
      const move = event.target.closest("[data-move]");
      const remove = event.target.closest("[data-remove]");
      if (resize) {
        const size = resize.dataset.resize;
        card.classList.remove(`report-${card.dataset.size}`);
        card.classList.add(`report-${size}`);
        card.dataset.size = size;
        card.querySelectorAll("[data-resize]").forEach((item) => {
          item.classList.toggle("active", item.dataset.resize === size);
          if (item.dataset.resize === size) item.setAttribute("aria-current", "true");
          else item.removeAttribute("aria-current");
        });
        requestAnimationFrame(() => redraw(card));
        save("Size saved.");
      } else if (move) {
        const step = Number(move.dataset.move);
        const sibling = step < 0 ? card.previousElementSibling : card.nextElementSibling;
        if (!sibling) return;
        if (step < 0) board.insertBefore(card, sibling);
        else board.insertBefore(sibling, card);
        save("Order saved.");
        card.querySelector("[data-drag-handle]")?.focus();
      } else if (remove) {
        const title = card.querySelector(".card-title")?.textContent.trim() || "this widget";
        if (!window.confirm(`Remove “${title}” from the dashboard? The saved report itself stays.`)) return;
        card.remove();
        save(`Removed “${title}”.`);
      }
    });
  }

  const addForm = document.querySelector("[data-add-widget]");
  addForm?.addEventListener("submit", async (event) => {
    if (event.submitter?.value !== "add") return;
    event.preventDefault();
    const [kind, value] = addForm.elements.source.value.split(/:(.*)/s);
    const body = kind === "report" ? { report_id: value } : { widget: value };
    if (addForm.elements.size.value) body.size = addForm.elements.size.value;
    const answer = await ui.api("POST", `${config.api}/widgets`, body);
    if (!answer.ok) {
      addForm.querySelector("[data-error]").textContent = ui.problem(answer, "The widget was not added.");
      return;
    }
    window.location.reload();
  });

  const editForm = document.querySelector("[data-edit-dashboard]");
  if (editForm) {
    ui.showSharing(editForm, readJson("board-shared"), readJson("board-roles"));
    editForm.addEventListener("submit", async (event) => {
      const action = event.submitter?.value;
      if (action === "cancel") return;
      event.preventDefault();
      const error = editForm.querySelector("[data-error]");
      if (action === "delete") {
        if (!window.confirm("Delete this dashboard? The saved reports on it stay.")) return;
        const answer = await ui.api("DELETE", config.api);
        if (answer.status === 204 || answer.ok) window.location.assign(config.saved_url);
        else error.textContent = ui.problem(answer, "The dashboard was not deleted.");
        return;
      }
      const answer = await ui.api("PATCH", config.api, {
        name: editForm.elements.name.value,
        description: editForm.elements.description.value,
        ...ui.sharing(editForm),
      });
      if (!answer.ok) {
        error.textContent = ui.problem(answer, "The dashboard was not saved.");
        return;
      }
      window.location.reload();
    });
  }
})();
