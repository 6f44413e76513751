// Upload several recordings by drag and drop or the file picker, each with its own progress bar.
// Each file is posted to the API (the browser session authenticates it; CSRF via the header).
(function () {
  "use strict";
  var form = document.querySelector("[data-call-upload]");
  if (!form) { return; }
  var input = form.querySelector("input[type=file]");
  var zone = form.querySelector("[data-dropzone]");
  var list = document.querySelector("[data-upload-list]");
  var csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;

  function row(file) {
    var item = document.createElement("li");
    item.className = "list-group-item";
    var head = document.createElement("div");
    head.className = "d-flex flex-wrap gap-2 align-items-center";
    var name = document.createElement("strong");
    name.className = "upload-name";
    name.textContent = file.name;
    var status = document.createElement("span");
    status.className = "upload-status text-secondary small ms-auto";
    status.textContent = "Uploading…";
    head.appendChild(name);
    head.appendChild(status);
    var progress = document.createElement("div");
    progress.className = "progress mt-2";
    progress.setAttribute("role", "progressbar");
    progress.setAttribute("aria-label", "Upload of " + file.name);
    progress.setAttribute("aria-valuemin", "0");
    progress.setAttribute("aria-valuemax", "100");
    var bar = document.createElement("div");
    bar.className = "progress-bar progress-bar-striped progress-bar-animated";
    progress.appendChild(bar);
    item.appendChild(head);
    item.appendChild(progress);
    list.appendChild(item);
    var view = { item: item, progress: progress, bar: bar, status: status };
    setProgress(view, 0);
    return view;
  }

  function setProgress(view, percent) {
    view.bar.style.width = percent + "%";
    view.progress.setAttribute("aria-valuenow", String(percent));
  }

  function stop(view, colour) {
    view.bar.classList.remove("progress-bar-striped", "progress-bar-animated");
    view.bar.classList.add(colour);
    view.item.setAttribute("data-state", colour === "bg-danger" ? "refused" : "done");
  }

  // A refusal: the bar stops and turns red, and a red alert on the row says why.
  function refuse(view, title, reason) {
    stop(view, "bg-danger");
    view.status.textContent = "Not uploaded";
    view.status.className = "upload-status text-danger small ms-auto";
    var alert = document.createElement("div");
    alert.className = "alert alert-danger mt-2 mb-0";
    alert.setAttribute("role", "alert");
    var heading = document.createElement("h4");
    heading.className = "alert-title";
    heading.textContent = title;
    var text = document.createElement("div");
    text.className = "text-secondary";
    text.textContent = reason;
    alert.appendChild(heading);
    alert.appendChild(text);
    view.item.appendChild(alert);
  }

  function reasonOf(xhr, body) {
    var errors = body && body.errors ? Object.keys(body.errors).map(function (key) {
      return [].concat(body.errors[key]).join(" ");
    }).join(" ") : "";
    if (errors) { return errors; }
    if (xhr.status === 413) { return "The file is too large."; }
    return (body && body.detail) || "The server refused the file (error " + xhr.status + ").";
  }

  function send(file) {
    var view = row(file);
    var data = new FormData();
    data.append("file", file, file.name);
    ["direction", "from_number", "to_number", "agent_email", "contact_id", "channel_roles"].forEach(function (name) {
      var field = form.elements[name];
      if (field && field.value) { data.append(name, field.value); }
    });
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.getAttribute("data-endpoint"));
    xhr.setRequestHeader("X-CSRFToken", csrf);
    xhr.upload.addEventListener("progress", function (event) {
      // The last few per cent wait for the server's answer: a refused file never shows a full bar.
      if (event.lengthComputable) { setProgress(view, Math.min(95, Math.round((event.loaded / event.total) * 100))); }
    });
    xhr.addEventListener("load", function () {
      var body = {};
      try { body = JSON.parse(xhr.responseText); } catch (e) { body = {}; }
      if (xhr.status >= 200 && xhr.status < 300) {
        setProgress(view, 100);
        stop(view, "bg-success");
        view.status.textContent = "";
        view.status.className = "upload-status small ms-auto";
        var link = document.createElement("a");
        link.href = form.getAttribute("data-list-url") + body.id + "/";
        link.textContent = body.duplicate ? "already uploaded" : "queued for analysis";
        view.status.appendChild(link);
      } else {
        refuse(view, "Refused", reasonOf(xhr, body));
      }
    });
    xhr.addEventListener("error", function () {
      refuse(view, "The upload failed", "The connection was lost. Check your network and upload the file again.");
    });
    xhr.send(data);
  }

  function sendAll(files) {
    Array.prototype.forEach.call(files, send);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    sendAll(input.files);
    input.value = "";
  });
  ["dragenter", "dragover"].forEach(function (name) {
    zone.addEventListener(name, function (event) { event.preventDefault(); zone.classList.add("dragging"); });
  });
  ["dragleave", "drop"].forEach(function (name) {
    zone.addEventListener(name, function () { zone.classList.remove("dragging"); });
  });
  zone.addEventListener("drop", function (event) {
    event.preventDefault();
    sendAll(event.dataTransfer.files);
  });
})();
