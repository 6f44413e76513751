// The report builder: the panel's choices become a query spec (see reports/query.py); every change
// asks /reports/preview/ for the card (drawn like the dashboards' cards, each bar and row linked to
// its records); Save and "Add to dashboard" go through the JSON API.
(() => {
  const root = document.querySelector("[data-builder]");
  if (!root) return;
  const ui = window.reportsUi;
  const readJson = (id) => JSON.parse(document.getElementById(id)?.textContent || "null");
  const catalog = readJson("rb-catalog");
  const config = readJson("rb-config");
  const $ = (selector, scope = root) => scope.querySelector(selector);

  const AGGS = [
    ["count", "Count of records"],
    ["count_distinct", "Count of distinct"],
    ["sum", "Sum of"],
    ["avg", "Average of"],
    ["min", "Minimum of"],
    ["max", "Maximum of"],
  ];
  const GRAINS = [
    ["day", "by day"],
    ["week", "by week"],
    ["month", "by month"],
    ["quarter", "by quarter"],
  ];
  const OP_LABELS = {
    eq: "is",
    ne: "is not",
    contains: "contains",
    gt: "is after / more than",
    gte: "is on or after / at least",
    lt: "is before / less than",
    lte: "is on or before / at most",
    in: "is any of",
    is_empty: "is empty",
    is_not_empty: "is known",
  };
  const NUMERIC = ["number", "money"];
  const DATES = ["date", "datetime"];
  const opsFor = (kind, hasChoices) => {
    if (NUMERIC.includes(kind) || DATES.includes(kind)) return ["eq", "ne", "gt", "gte", "lt", "lte", "is_empty", "is_not_empty"];
    if (kind === "choice") return ["eq", "ne", "in", "is_empty", "is_not_empty"];
    if (kind === "text" || kind === "tag") return ["eq", "ne", "contains", "is_empty", "is_not_empty"];
    if ((kind === "fk" || kind === "user" || kind === "team") && hasChoices) return ["eq", "ne", "in", "is_empty", "is_not_empty"];
    return ["eq", "ne", "is_empty", "is_not_empty"];
  };

  // --- state ------------------------------------------------------------------------------------
  const saved = config.report;
  let reportId = saved ? saved.id : null;
  // A new report starts as something worth looking at: deals by stage created this month.
  const month = catalog.periods.find((p) => p.key === "this_month") || { from: "", to: "" };
  const starter = catalog.datasets.find((d) => d.name === "deals") || catalog.datasets[0];
  const state = {
    dataset: starter?.name,
    measures: [{ agg: "count", field: null }],
    groups: starter?.fields.some((f) => f.name === "stage") ? [{ field: "stage", grain: null }] : [],
    filters: [],
    periodKey: "this_month",
    periodField: null,
    from: month.from,
    to: month.to,
    compare: true,
    view: "bar",
  };
  const dataset = () => catalog.datasets.find((d) => d.name === state.dataset) || catalog.datasets[0];
  const fields = () => dataset()?.fields || [];
  const field = (name) => fields().find((f) => f.name === name);
  const optionsFor = (f) => {
    if (!f) return [];
    if (f.kind === "user") return catalog.members;
    if (f.kind === "team") return catalog.teams;
    if (f.kind === "bool") return [["true", "Yes"], ["false", "No"]];
    return f.choices || [];
  };

  if (saved) {
    const spec = saved.spec || {};
    state.dataset = spec.dataset || state.dataset;
    state.measures = (spec.measures && spec.measures.length ? spec.measures : [{ agg: "count" }]).map((m) => ({ agg: m.agg, field: m.field || null }));
    state.groups = (spec.group_by || []).map((g) => ({ field: g.field, grain: g.grain || null }));
    state.filters = (spec.filters || []).map((f) => ({ field: f.field, op: f.op || "eq", value: f.value }));
    state.view = saved.view;
    if (spec.period) {
      state.periodField = spec.period.field || null;
      // A named period ("this month") saved as such rolls on: today's dates, not those of the save.
      const known = catalog.periods.find((p) => p.key === spec.period.relative);
      state.periodKey = known ? known.key : "custom";
      state.from = known ? known.from : spec.period.from || "";
      state.to = known ? known.to : spec.period.to || "";
      state.compare = spec.compare === "previous_period";
    } else {
      state.periodKey = "all";
      state.compare = false;
    }
  }

  // --- small DOM helpers ------------------------------------------------------------------------
  let uid = 0;
  const el = (tag, attrs = {}, children = []) => {
    const node = document.createElement(tag);
    Object.entries(attrs).forEach(([key, value]) => {
      if (value === null || value === undefined || value === false) return;
      if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    });
    [].concat(children).forEach((child) => child && node.append(child));
    return node;
  };
  const select = (label, options, value, onChange, extra = {}) => {
    const id = `rb-field-${++uid}`;
    const box = el("select", { class: "form-select", id, onchange: (event) => onChange(event.target.value), ...extra });
    options.forEach(([optionValue, optionLabel]) => {
      box.append(el("option", { value: optionValue ?? "", text: optionLabel, selected: String(optionValue ?? "") === String(value ?? "") }));
    });
    return [el("label", { class: "visually-hidden", for: id, text: label }), box];
  };
  const removeButton = (label, onClick) =>
    el("button", { type: "button", class: "btn btn-sm btn-icon btn-ghost-secondary rb-remove", "aria-label": label, title: label, onclick: onClick }, [
      el("i", { class: "ti ti-x", "aria-hidden": "true" }),
    ]);

  // --- the panel --------------------------------------------------------------------------------
  const datasetSelect = $("[data-dataset]");
  catalog.datasets.forEach((d) => datasetSelect.append(el("option", { value: d.name, text: d.label })));

  const renderMeasures = () => {
    const box = $("[data-measures]");
    box.replaceChildren();
    const numeric = fields().filter((f) => NUMERIC.includes(f.kind));
    state.measures.forEach((measure, index) => {
      const row = el("div", { class: "rb-row" });
      row.append(
        ...select(`Measure ${index + 1}`, AGGS.filter(([agg]) => agg === "count" || (agg === "count_distinct" ? true : numeric.length)), measure.agg, (agg) => {
          measure.agg = agg;
          if (agg === "count") measure.field = null;
          else if (agg === "count_distinct") measure.field = measure.field && field(measure.field) ? measure.field : fields().find((f) => f.groupable)?.name;
          else if (!numeric.some((f) => f.name === measure.field)) measure.field = numeric[0]?.name || null;
          renderMeasures();
          changed();
        }),
      );
      if (measure.agg !== "count") {
        const choices = (measure.agg === "count_distinct" ? fields().filter((f) => f.groupable && !DATES.includes(f.kind)) : numeric).map((f) => [f.name, f.label]);
        row.append(...select(`Field of measure ${index + 1}`, choices, measure.field, (name) => {
          measure.field = name;
          changed();
        }));
      }
      if (state.measures.length > 1) {
        row.append(removeButton(`Remove measure ${index + 1}`, () => {
          state.measures.splice(index, 1);
          renderMeasures();
          changed();
        }));
      }
      box.append(row);
    });
    $("[data-add-measure]").hidden = state.measures.length >= 10;
  };

  const renderGroups = () => {
    const box = $("[data-groups]");
    box.replaceChildren();
    const groupable = fields().filter((f) => f.groupable);
    for (let index = 0; index < 2; index += 1) {
      if (index === 1 && !state.groups[0]) break;
      const group = state.groups[index] || null;
      const row = el("div", { class: "rb-row" });
      const taken = state.groups.filter((g, i) => i !== index).map((g) => g.field);
      const choices = [["", index === 0 ? "No grouping (one number)" : "No second grouping"], ...groupable.filter((f) => !taken.includes(f.name)).map((f) => [f.name, f.label])];
      row.append(...select(index === 0 ? "Group by" : "Then by", choices, group?.field || "", (name) => {
        if (!name) state.groups.splice(index);
        else {
          const f = field(name);
          state.groups[index] = { field: name, grain: DATES.includes(f.kind) ? group?.grain || (index === 0 ? "week" : "month") : null };
        }
        renderGroups();
        changed();
      }));
      if (group && DATES.includes(field(group.field)?.kind)) {
        row.append(...select("Date bucket", GRAINS, group.grain || "day", (grain) => {
          group.grain = grain;
          changed();
        }));
      }
      box.append(row);
    }
  };

  const valueInput = (filter, f, index) => {
    if (filter.op === "is_empty" || filter.op === "is_not_empty") return [];
    const label = `Value of filter ${index + 1}`;
    const options = optionsFor(f);
    if (options.length && filter.op === "in") {
      const id = `rb-field-${++uid}`;
      const chosen = [].concat(filter.value || []).map(String);
      const box = el("select", {
        class: "form-select rb-multi",
        id,
        multiple: true,
        size: Math.min(4, options.length),
        onchange: (event) => {
          filter.value = [...event.target.selectedOptions].map((o) => o.value);
          changed();
        },
      });
      options.forEach(([v, l]) => box.append(el("option", { value: v, text: l, selected: chosen.includes(String(v)) })));
      return [el("label", { class: "visually-hidden", for: id, text: label }), box];
    }
    if (options.length) {
      if (filter.value === null || filter.value === undefined || filter.value === "" || Array.isArray(filter.value)) filter.value = options[0][0];
      return select(label, options, filter.value, (v) => {
        filter.value = v;
        changed();
      });
    }
    const id = `rb-field-${++uid}`;
    const type = NUMERIC.includes(f?.kind) ? "number" : DATES.includes(f?.kind) ? "date" : "text";
    const input = el("input", {
      class: "form-control",
      id,
      type,
      step: type === "number" ? "any" : null,
      value: Array.isArray(filter.value) ? "" : filter.value ?? "",
      placeholder: type === "text" ? "Value" : null,
      oninput: (event) => {
        filter.value = event.target.value;
        changed(true);
      },
    });
    return [el("label", { class: "visually-hidden", for: id, text: label }), input];
  };

  const renderFilters = () => {
    const box = $("[data-filters]");
    box.replaceChildren();
    const filterable = fields().filter((f) => f.filterable && (f.kind !== "fk" || (f.choices || []).length));
    state.filters.forEach((filter, index) => {
      const f = field(filter.field);
      const row = el("div", { class: "rb-row rb-filter" });
      row.append(...select(`Filter ${index + 1} field`, filterable.map((x) => [x.name, x.label]), filter.field, (name) => {
        filter.field = name;
        filter.op = "eq";
        filter.value = null;
        renderFilters();
        changed();
      }));
      const ops = opsFor(f?.kind, optionsFor(f).length > 0);
      if (!ops.includes(filter.op)) filter.op = ops[0];
      row.append(...select(`Filter ${index + 1} condition`, ops.map((op) => [op, OP_LABELS[op]]), filter.op, (op) => {
        const wasList = filter.op === "in";
        filter.op = op;
        if (wasList !== (op === "in")) filter.value = op === "in" ? [] : null;
        renderFilters();
        changed();
      }));
      row.append(...valueInput(filter, f, index));
      row.append(removeButton(`Remove filter ${index + 1}`, () => {
        state.filters.splice(index, 1);
        renderFilters();
        changed();
      }));
      box.append(row);
    });
  };

  const periodSelect = $("[data-period]");
  [["all", "All time"], ...catalog.periods.map((p) => [p.key, p.label]), ["custom", "Custom dates"]].forEach(([value, label]) => {
    periodSelect.append(el("option", { value, text: label }));
  });
  const renderPeriod = () => {
    const dates = fields().filter((f) => DATES.includes(f.kind));
    if (!dates.some((f) => f.name === state.periodField)) state.periodField = dataset()?.date_field || dates[0]?.name || null;
    const fieldBox = $("[data-period-field]");
    fieldBox.replaceChildren(...dates.map((f) => el("option", { value: f.name, text: f.label, selected: f.name === state.periodField })));
    periodSelect.value = state.periodKey;
    const all = state.periodKey === "all";
    $("[data-period-field-box]").hidden = all;
    $("[data-compare-box]").hidden = all;
    $("[data-custom]").hidden = state.periodKey !== "custom";
    $("[data-compare]").checked = state.compare;
    $("[data-from]").value = state.from;
    $("[data-to]").value = state.to;
  };
  periodSelect.addEventListener("change", () => {
    state.periodKey = periodSelect.value;
    const known = catalog.periods.find((p) => p.key === state.periodKey);
    if (known) {
      state.from = known.from;
      state.to = known.to;
    }
    if (state.periodKey === "custom" && !state.from) {
      const month = catalog.periods.find((p) => p.key === "this_month");
      state.from = month.from;
      state.to = month.to;
    }
    if (state.periodKey !== "all" && !saved) state.compare = true;
    renderPeriod();
    changed();
  });
  $("[data-period-field]").addEventListener("change", (event) => {
    state.periodField = event.target.value;
    changed();
  });
  $("[data-compare]").addEventListener("change", (event) => {
    state.compare = event.target.checked;
    changed();
  });
  $("[data-from]").addEventListener("change", (event) => {
    state.from = event.target.value;
    changed();
  });
  $("[data-to]").addEventListener("change", (event) => {
    state.to = event.target.value;
    changed();
  });

  datasetSelect.addEventListener("change", () => {
    state.dataset = datasetSelect.value;
    state.measures = [{ agg: "count", field: null }];
    state.groups = [];
    state.filters = [];
    state.periodField = null;
    renderAll();
    changed();
  });
  $("[data-add-measure]").addEventListener("click", () => {
    const numeric = fields().find((f) => NUMERIC.includes(f.kind) && !state.measures.some((m) => m.field === f.name && m.agg === "sum"));
    state.measures.push(numeric ? { agg: "sum", field: numeric.name } : { agg: "count_distinct", field: fields().find((f) => f.groupable)?.name });
    renderMeasures();
    changed();
  });
  $("[data-add-filter]").addEventListener("click", () => {
    const first = fields().find((f) => f.filterable && (f.kind === "choice" || f.kind === "user")) || fields().find((f) => f.filterable);
    state.filters.push({ field: first.name, op: "eq", value: null });
    renderFilters();
    changed();
  });
  root.querySelectorAll("[data-view]").forEach((radio) => {
    radio.checked = radio.value === state.view;
    radio.addEventListener("change", () => {
      state.view = radio.value;
      changed();
    });
  });
  const nameInput = $("[data-name]");
  nameInput.addEventListener("input", () => changed(true));

  const renderAll = () => {
    datasetSelect.value = state.dataset;
    renderMeasures();
    renderGroups();
    renderFilters();
    renderPeriod();
  };

  // --- the spec and the preview -----------------------------------------------------------------
  const spec = () => {
    const out = {
      dataset: state.dataset,
      measures: state.measures.map((m) => (m.field ? { agg: m.agg, field: m.field } : { agg: m.agg })),
      group_by: state.groups.map((g) => (g.grain ? { field: g.field, grain: g.grain } : { field: g.field })),
      filters: state.filters
        .filter((f) => f.op === "is_empty" || f.op === "is_not_empty" || (Array.isArray(f.value) ? f.value.length : f.value !== null && f.value !== ""))
        .map((f) => (f.op === "is_empty" || f.op === "is_not_empty" ? { field: f.field, op: f.op } : { field: f.field, op: f.op, value: f.value })),
    };
    if (state.periodKey !== "all" && state.from && state.to) {
      out.period = { field: state.periodField, from: state.from, to: state.to };
      if (state.periodKey !== "custom") out.period.relative = state.periodKey;
      if (state.compare) out.compare = "previous_period";
    }
    return out;
  };

  const preview = $("[data-preview]");
  let timer = null;
  let sequence = 0;
  const refresh = async () => {
    const mine = ++sequence;
    preview.setAttribute("aria-busy", "true");
    preview.classList.add("rb-loading");
    const response = await fetch("/reports/preview/", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": ui.csrfToken() },
      body: JSON.stringify({ spec: spec(), view: state.view, name: nameInput.value, period_key: state.periodKey }),
    });
    let data = {};
    try {
      data = await response.json();
    } catch (error) {
      data = {};
    }
    if (mine !== sequence) return; // a newer change is on its way
    preview.classList.remove("rb-loading");
    preview.setAttribute("aria-busy", "false");
    if (!response.ok) {
      const problem = ui.problem({ data }, "The preview could not run.");
      preview.replaceChildren(el("div", { class: "alert alert-warning mb-0", role: "alert" }, [el("i", { class: "ti ti-alert-triangle me-2", "aria-hidden": "true" }), problem]));
      return;
    }
    preview.innerHTML = data.html;
    window.reportCharts?.drawAll(preview);
  };
  let dirty = false;
  const changed = (typing) => {
    dirty = true;
    clearTimeout(timer);
    timer = setTimeout(refresh, typing ? 450 : 120);
  };

  // --- saving -----------------------------------------------------------------------------------
  const toast = document.querySelector("[data-toast]");
  const say = (html) => {
    toast.innerHTML = "";
    toast.append(...html);
    toast.hidden = false;
    clearTimeout(say.timer);
    say.timer = setTimeout(() => {
      toast.hidden = true;
    }, 6000);
  };
  const body = (name, sharingRoot) => {
    const out = { name, spec: spec(), view: state.view };
    if (sharingRoot && config.may_share) Object.assign(out, ui.sharing(sharingRoot));
    return out;
  };
  const saveReport = async (name, sharingRoot, asNew) => {
    const answer = reportId && !asNew && config.editable
      ? await ui.api("PATCH", `/api/v1/reports/${reportId}`, body(name, sharingRoot))
      : await ui.api("POST", "/api/v1/reports", body(name, sharingRoot));
    if (answer.ok) {
      const fresh = !reportId || asNew;
      reportId = answer.data.id;
      nameInput.value = answer.data.name;
      if (fresh) window.history.replaceState(null, "", `/reports/${reportId}/`);
      document.querySelector(".page-title").textContent = answer.data.name;
    }
    return answer;
  };

  const saveForm = document.querySelector("[data-save-form]");
  if (saveForm) {
    const dialog = saveForm.closest("dialog");
    document.querySelector('[data-open-dialog="save-report"]')?.addEventListener("click", () => {
      saveForm.elements.name.value = nameInput.value.trim() || "";
      if (saved) ui.showSharing(saveForm, saved.shared, saved.roles);
    });
    saveForm.addEventListener("submit", async (event) => {
      const action = event.submitter?.value;
      if (action === "cancel") return;
      event.preventDefault();
      const error = saveForm.querySelector("[data-error]");
      error.textContent = "";
      if (action === "delete") {
        if (!window.confirm("Delete this report? Dashboards that show it will say it was deleted.")) return;
        const answer = await ui.api("DELETE", `/api/v1/reports/${reportId}`);
        if (answer.ok || answer.status === 204) window.location.assign("/reports/saved/");
        else error.textContent = ui.problem(answer, "The report was not deleted.");
        return;
      }
      const answer = await saveReport(saveForm.elements.name.value, saveForm, action === "copy");
      if (!answer.ok) {
        error.textContent = ui.problem(answer, "The report was not saved.");
        return;
      }
      dirty = false;
      dialog.close();
      say([el("i", { class: "ti ti-check me-2", "aria-hidden": "true" }), `Saved “${answer.data.name}”. `, el("a", { href: "/reports/saved/", text: "All saved reports" })]);
    });
  }

  const addForm = document.querySelector("[data-add-form]");
  if (addForm) {
    const dialog = addForm.closest("dialog");
    // Both choices stay usable: picking a dashboard or typing a new name chooses that option.
    const syncTarget = () => {
      const target = addForm.querySelector("[data-target]:checked")?.value || "new";
      addForm.querySelector("[data-new-name]").required = target === "new";
      addForm.querySelector("[data-new-sharing]").hidden = target !== "new";
    };
    const choose = (value) => {
      const radio = addForm.querySelector(`[data-target][value="${value}"]`);
      if (radio && !radio.checked) {
        radio.checked = true;
        syncTarget();
      }
    };
    addForm.addEventListener("change", (event) => {
      if (event.target.matches("[data-target]")) syncTarget();
      if (event.target.matches("[data-existing]")) choose("existing");
    });
    addForm.querySelector("[data-new-name]").addEventListener("focus", () => choose("new"));
    addForm.querySelector("[data-existing]")?.addEventListener("focus", () => choose("existing"));
    document.querySelector('[data-open-dialog="add-to-dashboard"]')?.addEventListener("click", () => {
      if (addForm.elements.report_name) addForm.elements.report_name.value = nameInput.value.trim();
      syncTarget();
    });
    addForm.addEventListener("submit", async (event) => {
      if (event.submitter?.value !== "add") return;
      event.preventDefault();
      const error = addForm.querySelector("[data-error]");
      error.textContent = "";
      // The dashboard shows the saved report: save it first (new, or changed by its owner).
      if (!reportId || (dirty && config.editable)) {
        const name = addForm.elements.report_name?.value || nameInput.value;
        const answer = await saveReport(name, null, false);
        if (!answer.ok) {
          error.textContent = ui.problem(answer, "The report was not saved.");
          return;
        }
        dirty = false;
      }
      const size = addForm.elements.size.value;
      const target = addForm.querySelector("[data-target]:checked")?.value || "new";
      let answer;
      let dashboardId;
      if (target === "existing") {
        dashboardId = addForm.elements.dashboard.value;
        answer = await ui.api("POST", `/api/v1/dashboards/${dashboardId}/widgets`, { report_id: reportId, size });
      } else {
        answer = await ui.api("POST", "/api/v1/dashboards", {
          name: addForm.elements.new_name.value,
          widgets: [{ report_id: reportId, size }],
          ...ui.sharing(addForm.querySelector("[data-new-sharing]")),
        });
        dashboardId = answer.data.id;
      }
      if (!answer.ok) {
        error.textContent = ui.problem(answer, "The report was not added.").replace(/^name:/, "Dashboard name:");
        return;
      }
      dialog.close();
      const name = target === "existing" ? addForm.elements.dashboard.selectedOptions[0].textContent : answer.data.name;
      say([
        el("i", { class: "ti ti-check me-2", "aria-hidden": "true" }),
        `Added to “${name}”. `,
        el("a", { href: `/reports/dashboards/${dashboardId}/`, text: "Open the dashboard", "data-open-dashboard": true }),
      ]);
    });
  }

  renderAll();
  refresh();
})();
