// The call page's QA panel: evidence lines play the recording from where they were said (the
// panel is loaded and replaced by htmx, so clicks are handled on the document).
(function () {
  "use strict";
  // A refused answer (422) comes back as the panel with its errors: show it like any other answer.
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.xhr.status === 422 && event.detail.target && event.detail.target.id === "qa-panel") {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-qa-seek]");
    if (!button) { return; }
    var seconds = parseFloat(button.getAttribute("data-qa-seek"));
    var audio = document.querySelector("[data-call-audio]");
    var line = document.getElementById("line-" + button.getAttribute("data-line"));
    if (line) {
      line.scrollIntoView({ block: "center", behavior: "smooth" });
      line.classList.add("qa-highlight");
      window.setTimeout(function () { line.classList.remove("qa-highlight"); }, 2000);
    }
    if (audio && !isNaN(seconds)) {
      audio.currentTime = seconds;
      audio.play().catch(function () { /* autoplay may be refused; the position is set */ });
    }
  });
})();
