// The scorecard builder: sections of questions edited in the page (add, remove, reorder; answers
// with points; auto-fail; may be skipped; weight; where the AI suggestion comes from). The whole
// definition is posted as JSON in the hidden "definition" field; the server validates it.
(function () {
  "use strict";
  var form = document.querySelector("[data-builder]");
  if (!form) { return; }
  var state = JSON.parse(document.getElementById("scorecard-definition").textContent || "null") || { sections: [] };
  var config = JSON.parse(document.getElementById("scorecard-builder").textContent);
  var root = form.querySelector("[data-sections]");
  var total = form.querySelector("[data-total]");
  var hidden = form.querySelector("[data-definition]");

  function uid(prefix) { return prefix + "-" + Math.random().toString(36).slice(2, 8); }
  function slug(text) {
    var value = String(text || "").toLowerCase().replace(/[^a-z0-9]+/g, "_").replace(/^_+|_+$/g, "").slice(0, 40);
    return value || uid("a");
  }
  function copy(value) { return JSON.parse(JSON.stringify(value)); }
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") { node.textContent = attrs[key]; }
      else if (key.indexOf("on") === 0) { node.addEventListener(key.slice(2), attrs[key]); }
      else if (attrs[key] === true) { node.setAttribute(key, ""); }
      else if (attrs[key] !== false && attrs[key] !== null && attrs[key] !== undefined) { node.setAttribute(key, attrs[key]); }
    });
    (children || []).forEach(function (child) { if (child) { node.appendChild(child); } });
    return node;
  }
  function icon(name) { return el("i", { "class": "ti ti-" + name, "aria-hidden": "true" }); }
  function iconButton(name, label, handler, extra) {
    return el("button", { type: "button", "class": "btn btn-icon btn-ghost-secondary " + (extra || ""), "aria-label": label, title: label, onclick: handler }, [icon(name)]);
  }
  function move(list, index, by) {
    var target = index + by;
    if (target < 0 || target >= list.length) { return; }
    var item = list.splice(index, 1)[0];
    list.splice(target, 0, item);
    render();
  }
  function maxPoints(q) {
    var best = 0;
    (q.options || []).forEach(function (o) { best = Math.max(best, parseFloat(o.points) || 0); });
    return best * (parseFloat(q.weight) || 0);
  }
  function updateTotal() {
    var sum = 0;
    state.sections.forEach(function (s) { s.questions.forEach(function (q) { sum += maxPoints(q); }); });
    total.textContent = (Math.round(sum * 100) / 100) + " points";
    hidden.value = JSON.stringify(state);
  }
  function newQuestion() {
    return { id: uid("q"), text: "", help: "", kind: "yes_no", options: copy(config.defaults.yes_no), auto_fail: null, skippable: false, weight: 1, auto: null };
  }

  function field(label, input, extraClass) {
    return el("div", { "class": "mb-2 " + (extraClass || "") }, [el("label", { "class": "form-label small mb-1", "for": input.id, text: label }), input]);
  }

  function optionsTable(q) {
    var rows = q.options.map(function (option, index) {
      var labelInput = el("input", { "class": "form-control form-control-sm", value: option.label, "aria-label": "Answer " + (index + 1), maxlength: "80",
        oninput: function (e) { option.label = e.target.value; if (q.kind === "select" && option.isNew) { option.value = slug(e.target.value); } updateTotal(); },
        disabled: q.kind === "scale" });
      var points = el("input", { type: "number", min: "0", max: "1000", step: "0.5", "class": "form-control form-control-sm points-input", value: option.points, "aria-label": "Points for " + option.label,
        oninput: function (e) { option.points = e.target.value === "" ? 0 : parseFloat(e.target.value); updateTotal(); } });
      var remove = q.kind === "select" && q.options.length > 2 ? iconButton("x", "Remove this answer", function () { q.options.splice(index, 1); if (q.auto_fail === option.value) { q.auto_fail = null; } render(); }) : null;
      return el("tr", {}, [el("td", {}, [labelInput]), el("td", { "class": "w-1" }, [points]), el("td", { "class": "w-1" }, [remove])]);
    });
    var body = el("tbody", {}, rows);
    var table = el("table", { "class": "table table-sm table-borderless mb-1 options-table" }, [
      el("thead", {}, [el("tr", {}, [el("th", { text: "Answer", scope: "col" }), el("th", { text: "Points", scope: "col" }), el("th", { scope: "col" })])]), body]);
    var wrap = el("div", {}, [table]);
    if (q.kind === "select" && q.options.length < 10) {
      wrap.appendChild(el("button", { type: "button", "class": "btn btn-sm btn-ghost-primary", onclick: function () {
        q.options.push({ value: uid("a"), label: "", points: 0, isNew: true }); render();
      } }, [icon("plus"), document.createTextNode("Add an answer")]));
    }
    return wrap;
  }

  function autoControls(q, qIndex) {
    var select = el("select", { "class": "form-select form-select-sm", id: "auto-" + q.id });
    var choices = [["", "No suggestion"]];
    if (q.kind === "yes_no") {
      Object.keys(config.rules).forEach(function (key) { choices.push(["rule:" + key, "Transcript: " + config.rules[key].toLowerCase()]); });
      Object.keys(config.metrics).forEach(function (key) { choices.push(["metric:" + key, "Metric: " + config.metrics[key]]); });
      Object.keys(config.trackers).forEach(function (key) {
        choices.push(["tracker:" + key + ":present", "Tracker heard: " + config.trackers[key]]);
        choices.push(["tracker:" + key + ":absent", "Tracker not wanted: " + config.trackers[key]]);
      });
    } else if (q.kind === "scale") {
      choices.push(["metric:customer_sentiment", "Customer sentiment (−1 … 1 → 1 … 5)"]);
    }
    choices.push(["llm", "Language model: answers the question from the transcript"]);
    var current = "";
    if (q.auto) {
      if (q.auto.source === "llm") { current = "llm"; }
      else if (q.auto.source === "rule") { current = "rule:" + q.auto.rule; }
      else if (q.auto.source === "metric") { current = "metric:" + q.auto.metric; }
      else if (q.auto.source === "tracker") { current = "tracker:" + q.auto.tracker_id + ":" + (q.auto.expect || "present"); }
    }
    choices.forEach(function (choice) { select.appendChild(el("option", { value: choice[0], text: choice[1], selected: choice[0] === current })); });
    select.addEventListener("change", function () {
      var parts = select.value.split(":");
      if (!select.value) { q.auto = null; }
      else if (parts[0] === "llm") { q.auto = { source: "llm", guidance: "" }; }
      else if (parts[0] === "rule") { q.auto = { source: "rule", rule: parts[1] }; }
      else if (parts[0] === "metric") { q.auto = { source: "metric", metric: parts[1], limit: ({ talk_ratio: 0.65, longest_monologue: 90, interruptions: 2, customer_sentiment: 0.05 })[parts[1]] }; }
      else { q.auto = { source: "tracker", tracker_id: parts[1], expect: parts[2] }; }
      render();
    });
    var wrap = el("div", { "class": "row g-2" }, [el("div", { "class": "col" }, [field("AI suggestion from", select)])]);
    if (q.auto && q.auto.source === "llm") {
      var guidance = el("input", { "class": "form-control form-control-sm", id: "guidance-" + q.id, value: q.auto.guidance || "", maxlength: "500",
        placeholder: "What counts as each answer (optional), e.g. Yes only if the customer confirmed it is fixed",
        oninput: function (e) { q.auto.guidance = e.target.value; updateTotal(); } });
      wrap.appendChild(el("div", { "class": "col-12" }, [field("Guidance for the language model", guidance)]));
      wrap.appendChild(el("div", { "class": "col-12 form-hint", "data-testid": "llm-hint",
        text: "Needs a language model in the analysis settings" + (config.language_model ? " (configured)." : ": none is configured yet, so no suggestion will appear.") +
          " The question is the criterion; only the redacted transcript is sent." }));
    }
    if (q.auto && q.auto.source === "metric" && q.kind === "yes_no") {
      var limit = el("input", { type: "number", step: "any", "class": "form-control form-control-sm", id: "limit-" + q.id, value: q.auto.limit,
        oninput: function (e) { q.auto.limit = e.target.value === "" ? null : parseFloat(e.target.value); updateTotal(); } });
      wrap.appendChild(el("div", { "class": "col-4 col-md-3" }, [field("Limit", limit)]));
    }
    return wrap;
  }

  function questionCard(section, q, index) {
    var text = el("input", { "class": "form-control", id: "text-" + q.id, value: q.text, placeholder: "What the reviewer checks, e.g. Greeted the customer", maxlength: "300",
      oninput: function (e) { q.text = e.target.value; updateTotal(); } });
    var kind = el("select", { "class": "form-select", id: "kind-" + q.id, "aria-label": "Kind of answer" });
    Object.keys(config.kinds).forEach(function (key) { kind.appendChild(el("option", { value: key, text: config.kinds[key], selected: key === q.kind })); });
    kind.addEventListener("change", function () {
      q.kind = kind.value; q.options = copy(config.defaults[q.kind]); q.auto_fail = null; q.auto = null; render();
    });
    var help = el("input", { "class": "form-control form-control-sm", id: "help-" + q.id, value: q.help || "", placeholder: "Guidance for reviewers (optional)", maxlength: "500",
      oninput: function (e) { q.help = e.target.value; updateTotal(); } });
    var fail = el("select", { "class": "form-select form-select-sm", id: "fail-" + q.id });
    fail.appendChild(el("option", { value: "", text: "Never" }));
    q.options.forEach(function (o) { fail.appendChild(el("option", { value: o.value, text: "When answered “" + (o.label || o.value) + "”", selected: q.auto_fail === o.value })); });
    fail.addEventListener("change", function () { q.auto_fail = fail.value || null; render(); });
    var weight = el("input", { type: "number", min: "0.1", max: "10", step: "0.1", "class": "form-control form-control-sm", id: "weight-" + q.id, value: q.weight,
      oninput: function (e) { q.weight = e.target.value === "" ? 1 : parseFloat(e.target.value); updateTotal(); } });
    var skip = el("input", { type: "checkbox", "class": "form-check-input", id: "skip-" + q.id, checked: !!q.skippable, onchange: function (e) { q.skippable = e.target.checked; updateTotal(); } });
    var badges = el("div", { "class": "d-flex gap-1 flex-wrap" }, [
      q.auto_fail ? el("span", { "class": "badge bg-danger-lt", text: "Auto-fail" }) : null,
      q.skippable ? el("span", { "class": "badge bg-secondary-lt", text: "May be skipped" }) : null,
      q.auto ? el("span", { "class": "badge bg-azure-lt", text: "AI suggests" }) : null,
      el("span", { "class": "badge bg-primary-lt", text: (Math.round(maxPoints(q) * 100) / 100) + " pts" })
    ]);
    return el("li", { "class": "list-group-item question-editor", "data-question": q.id }, [
      el("div", { "class": "d-flex gap-2 align-items-start" }, [
        el("span", { "class": "question-number text-secondary", text: String(index + 1) + "." }),
        el("div", { "class": "flex-fill" }, [
          el("div", { "class": "row g-2 mb-2" }, [
            el("div", { "class": "col-12 col-md-8" }, [el("label", { "class": "visually-hidden", "for": text.id, text: "Question" }), text]),
            el("div", { "class": "col-12 col-md-4" }, [kind])
          ]),
          el("div", { "class": "mb-2" }, [el("label", { "class": "visually-hidden", "for": help.id, text: "Guidance" }), help]),
          optionsTable(q),
          el("div", { "class": "row g-2 mt-1" }, [
            el("div", { "class": "col-12 col-md-5" }, [field("Fails the whole scorecard", fail)]),
            el("div", { "class": "col-6 col-md-2" }, [field("Weight", weight)]),
            el("div", { "class": "col-6 col-md-5 d-flex align-items-end" }, [el("label", { "class": "form-check mb-2" }, [skip, el("span", { "class": "form-check-label", text: "Reviewer may skip it (N/A)" })])])
          ]),
          autoControls(q, index),
          badges
        ]),
        el("div", { "class": "btn-list flex-nowrap flex-column question-tools" }, [
          iconButton("arrow-up", "Move the question up", function () { move(section.questions, index, -1); }),
          iconButton("arrow-down", "Move the question down", function () { move(section.questions, index, 1); }),
          iconButton("trash", "Remove the question", function () { section.questions.splice(index, 1); render(); }, "text-danger")
        ])
      ])
    ]);
  }

  function sectionCard(section, index) {
    var title = el("input", { "class": "form-control form-control-flush h3 mb-0 section-title", id: "section-" + section.id, value: section.title, placeholder: "Section title", maxlength: "120", "aria-label": "Section title",
      oninput: function (e) { section.title = e.target.value; updateTotal(); } });
    var list = el("ol", { "class": "list-group list-group-flush list-unstyled" }, section.questions.map(function (q, i) { return questionCard(section, q, i); }));
    return el("section", { "class": "card mb-3 section-editor", "data-section": section.id }, [
      el("div", { "class": "card-header gap-2" }, [
        el("div", { "class": "flex-fill" }, [title]),
        el("div", { "class": "btn-list flex-nowrap" }, [
          iconButton("arrow-up", "Move the section up", function () { move(state.sections, index, -1); }),
          iconButton("arrow-down", "Move the section down", function () { move(state.sections, index, 1); }),
          iconButton("trash", "Remove the section", function () { state.sections.splice(index, 1); render(); }, "text-danger")
        ])
      ]),
      list,
      el("div", { "class": "card-footer" }, [el("button", { type: "button", "class": "btn btn-sm", "data-add-question": section.id, onclick: function () {
        section.questions.push(newQuestion()); render();
        var input = document.getElementById("text-" + section.questions[section.questions.length - 1].id);
        if (input) { input.focus(); }
      } }, [icon("plus"), document.createTextNode("Add a question")])])
    ]);
  }

  function render() {
    root.textContent = "";
    state.sections.forEach(function (section, index) { root.appendChild(sectionCard(section, index)); });
    if (!state.sections.length) {
      root.appendChild(el("div", { "class": "empty card mb-3" }, [el("p", { "class": "empty-title", text: "No questions yet" }), el("p", { "class": "empty-subtitle text-secondary", text: "Add a section, then its questions." })]));
    }
    updateTotal();
  }

  form.querySelector("[data-add-section]").addEventListener("click", function () {
    state.sections.push({ id: uid("s"), title: "", questions: [newQuestion()] });
    render();
  });
  form.addEventListener("submit", function () {
    state.sections.forEach(function (s) { s.questions.forEach(function (q) { q.options.forEach(function (o) { delete o.isNew; }); }); });
    hidden.value = JSON.stringify(state);
  });
  render();
})();
