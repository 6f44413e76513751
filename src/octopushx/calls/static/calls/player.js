// The call page: waveform from the precomputed peaks, transcript that follows the audio and
// seeks on click (tracker hits too), and ?t=SECONDS to start at a moment (links from transcript search).
(function () {
  "use strict";
  var audio = document.querySelector("[data-call-audio]");
  var canvas = document.querySelector("[data-waveform]");
  var lines = Array.prototype.slice.call(document.querySelectorAll("[data-transcript] [data-start]"));
  var peaksNode = document.getElementById("call-peaks");
  var peaks = peaksNode ? JSON.parse(peaksNode.textContent || "[]") : [];

  function draw() {
    if (!canvas || !canvas.getContext) { return; }
    var context = canvas.getContext("2d");
    var width = canvas.width, height = canvas.height;
    var styles = getComputedStyle(canvas);
    context.clearRect(0, 0, width, height);
    var played = audio && audio.duration ? audio.currentTime / audio.duration : 0;
    var step = width / Math.max(peaks.length, 1);
    for (var i = 0; i < peaks.length; i++) {
      var bar = Math.max(1, peaks[i] * (height - 4));
      context.fillStyle = i / peaks.length < played ? styles.getPropertyValue("--wave-played").trim() || "#0f766e"
                                                     : styles.getPropertyValue("--wave").trim() || "#94a3b8";
      context.fillRect(i * step, (height - bar) / 2, Math.max(step - 1, 1), bar);
    }
  }

  function seek(seconds) {
    if (!audio) { return; }
    audio.currentTime = seconds;
    audio.play().catch(function () { /* autoplay may be refused; the position is set */ });
  }

  function follow() {
    if (!audio) { return; }
    var now = audio.currentTime;
    lines.forEach(function (line) {
      var on = now >= parseFloat(line.getAttribute("data-start")) && now < parseFloat(line.getAttribute("data-end"));
      if (on && !line.classList.contains("current")) {
        line.classList.add("current");
        line.scrollIntoView({ block: "nearest" });
      } else if (!on) {
        line.classList.remove("current");
      }
    });
    draw();
  }

  document.querySelectorAll("[data-seek]").forEach(function (button) {
    button.addEventListener("click", function () {
      seek(parseFloat(button.getAttribute("data-seek")));
      // A tracker hit may be far from the player (phones stack the panels): bring the player into view.
      if (audio && button.closest("[data-testid=tracker-hits]")) { audio.scrollIntoView({ block: "nearest" }); }
    });
  });
  if (canvas) {
    canvas.addEventListener("click", function (event) {
      if (!audio || !audio.duration) { return; }
      var box = canvas.getBoundingClientRect();
      seek(((event.clientX - box.left) / box.width) * audio.duration);
    });
  }
  if (audio) {
    audio.addEventListener("timeupdate", follow);
    var startAt = function () {
      var start = parseFloat(audio.getAttribute("data-start-at"));
      if (!isNaN(start) && start > 0) { audio.currentTime = start; }
      draw();
    };
    // The metadata may have loaded before this deferred script ran: then the event is gone.
    if (audio.readyState >= 1) { startAt(); } else { audio.addEventListener("loadedmetadata", startAt); }
  }
  draw();
})();
