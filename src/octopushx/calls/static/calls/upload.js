// Upload several recordings by drag and drop or the file picker, each with its own progress bar.
// Each file is posted to the API (the browser session authenticates it; CSRF via the header).
(function () {
  "use strict";
  var form = document.querySelector("[data-call-upload]");
  if (!form) { return; }
  var input = form.querySelector("input[type=file]");
  var zone = form.querySelector("[data-dropzone]");
  var list = form.querySelector("[data-upload-list]");
  var csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;

  function row(file) {
    var item = document.createElement("li");
    var name = document.createElement("span");
    name.textContent = file.name + " ";
    var bar = document.createElement("progress");
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute("aria-label", "Upload of " + file.name);
    var status = document.createElement("span");
    status.className = "help";
    item.appendChild(name);
    item.appendChild(bar);
    item.appendChild(status);
    list.appendChild(item);
    return { bar: bar, status: status };
  }

  function send(file) {
    var view = row(file);
    var data = new FormData();
    data.append("file", file, file.name);
    ["direction", "from_number", "to_number", "agent_email", "channel_roles"].forEach(function (name) {
      var field = form.elements[name];
      if (field && field.value) { data.append(name, field.value); }
    });
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.getAttribute("data-endpoint"));
    xhr.setRequestHeader("X-CSRFToken", csrf);
    xhr.upload.addEventListener("progress", function (event) {
      if (event.lengthComputable) { view.bar.value = Math.round((event.loaded / event.total) * 100); }
    });
    xhr.addEventListener("load", function () {
      var body = {};
      try { body = JSON.parse(xhr.responseText); } catch (e) { body = {}; }
      if (xhr.status >= 200 && xhr.status < 300) {
        view.bar.value = 100;
        var link = document.createElement("a");
        link.href = form.getAttribute("data-list-url") + body.id + "/";
        link.textContent = body.duplicate ? "already uploaded" : "queued for analysis";
        view.status.appendChild(link);
      } else {
        var errors = body.errors ? Object.values(body.errors).join(" ") : "";
        view.status.textContent = "Refused: " + (errors || body.detail || xhr.status);
        view.status.classList.add("field-invalid");
      }
    });
    xhr.addEventListener("error", function () { view.status.textContent = "The upload failed (network)."; });
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
