// The call flow block editor (telephony/_editor.html): the server does the work, this only keeps
// the page in place. No inline scripts (CSP).
(() => {
  const editor = (element) => element && element.closest && element.closest("#flow-editor");

  // "Save" with problems answers 422 with the editor and its messages: show them (htmx keeps 4xx
  // answers off the page by default).
  document.addEventListener("htmx:beforeSwap", (event) => {
    if (event.detail.xhr.status === 422 && editor(event.detail.elt)) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // After an action, bring the block it concerned (a new one, the start) or the first problem into view.
  document.addEventListener("htmx:afterSettle", (event) => {
    const form = document.getElementById("flow-editor");
    if (!form || !form.contains(event.detail.elt)) return;
    const focus = form.dataset.focus && document.querySelector(`[data-block="${CSS.escape(form.dataset.focus)}"]`);
    const problem = form.querySelector("[aria-invalid='true'], .flow-edit-block.border-danger");
    const button = event.detail.requestConfig && event.detail.requestConfig.triggeringEvent
      ? event.detail.requestConfig.triggeringEvent.submitter : null;
    if (focus) {
      focus.scrollIntoView({ block: "start", behavior: "smooth" });
      const field = focus.querySelector("input:not([type=hidden]), textarea, select");
      if (field) field.focus({ preventScroll: true });
    } else if (button && button.value === "save" && problem) {
      problem.scrollIntoView({ block: "center", behavior: "smooth" });
    }
  });
})();
