// Octopush Studio's builder: the trigger and a vertical list of steps (branches nest their yes/no
// lists), each edited in a side panel whose fields come from the catalog; a condition builder; a
// variable picker that offers only what is valid at the step; validation as you edit (debounced,
// through the API); save (publishes a version), enable, and a test run that changes nothing.
// Plain script, no inline code (CSP): the page hands over its data with json_script.
(() => {
  "use strict";

  const $ = (selector, root = document) => root.querySelector(selector);
  const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];
  const readJson = (id) => {
    const node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  };
  const bs = () => window.tabler || window.bootstrap;

  // h("div.card", {attrs}, ...children): a small element builder. Attributes starting with "on"
  // are listeners; `dataset` and `aria` objects spread; false/null values are left out.
  function h(spec, attrs, ...children) {
    const [tag, ...classes] = spec.split(".");
    const node = document.createElement(tag || "div");
    if (classes.length) node.className = classes.join(" ");
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === false || value === null || value === undefined) continue;
      if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
      else if (key === "dataset") Object.assign(node.dataset, value);
      else if (key === "class") node.className = `${node.className} ${value}`.trim();
      else if (key === "text") node.textContent = value;
      else if (key === "value") node.value = value;
      else if (key === "checked" || key === "disabled" || key === "selected" || key === "hidden") node[key] = Boolean(value);
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }
  const icon = (name) => h("i", { class: `ti ${name}`, "aria-hidden": "true" });
  const clone = (value) => JSON.parse(JSON.stringify(value));
  let uid = 0;
  const nextId = (prefix) => `${prefix}-${++uid}`;
  const csrfToken = () => {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (error) {
      return "";
    }
  };
  async function api(method, url, payload) {
    const response = await fetch(url, {
      method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
      body: payload === undefined ? undefined : JSON.stringify(payload),
    });
    let data = {};
    try {
      data = await response.json();
    } catch (error) {
      data = {};
    }
    return { ok: response.ok, status: response.status, data };
  }

  // --- what the page handed over ------------------------------------------------------------
  const root = $("[data-builder]");
  if (!root) return;
  const config = readJson("studio-config");
  const catalog = readJson("studio-catalog") || {};
  const webhookUrl = readJson("studio-webhook-url");
  const rotateUrl = readJson("studio-rotate-url");
  let body = readJson("studio-body");
  const readOnly = Boolean(config.readOnly);
  let savedText = JSON.stringify(body);
  let errors = {}; // "steps.s2.url" -> ["…"]
  let nextRuns = [];
  let validating = false;
  let panelTarget = null; // {kind: "trigger"} | {kind: "step", id} | {kind: "add", list, index}

  body.steps = Array.isArray(body.steps) ? body.steps : [];
  body.trigger = body.trigger && typeof body.trigger === "object" ? body.trigger : { type: "event", event: "contact.created" };
  body.reenrol = body.reenrol || "every";

  // --- the catalog, indexed -------------------------------------------------------------------
  const BUILTIN = {
    branch: { label: "If / else", icon: "ti-arrows-split-2", group: "Logic", hint: "Follow one path or the other" },
    delay: { label: "Wait", icon: "ti-hourglass", group: "Logic", hint: "A duration, a date on the record, or a day and time" },
    send_email: { label: "Send email", icon: "ti-mail", group: "Send", hint: "To a member, the record's owner or the contact" },
    http_request: { label: "HTTP request", icon: "ti-world-upload", group: "Send", hint: "Signed JSON to another tool; its answer is kept" },
    ai: { label: "AI: summarise or classify", icon: "ti-sparkles", group: "AI", hint: "Marked as unreviewed AI output" },
  };
  const GROUPS = ["Logic", "Records", "Send", "AI"];
  const OUTPUTS = {
    branch: ["branch", "result"],
    delay: ["until"],
    send_email: ["to", "subject", "message_id"],
    http_request: ["status", "body", "headers"],
    ai: ["text", "summary", "label", "model"],
    create_task: ["task_id", "title", "assignee"],
    update_field: ["field", "old", "new"],
    add_tag: ["tags", "changed"],
    remove_tag: ["tags", "changed"],
    assign_owner: ["owner"],
    create_note: ["note_id"],
    upsert_contact: ["contact_id", "created"],
  };
  const stepTypes = {};
  for (const step of catalog.steps || []) stepTypes[step.type] = step;
  for (const [type, info] of Object.entries(BUILTIN)) {
    stepTypes[type] = { ...info, ...(stepTypes[type] || {}), type, icon: (stepTypes[type] || {}).icon || info.icon, group: info.group };
  }
  const typeInfo = (type) => stepTypes[type] || { type, label: type, icon: "ti-point", params: [] };
  const typeIcon = (type) => {
    const name = typeInfo(type).icon || "ti-point";
    return name.startsWith("ti-") ? name : `ti-${name}`;
  };
  const triggersByEvent = {};
  const eventTriggers = (catalog.triggers || []).filter((t) => (t.type || "event") === "event" && t.event);
  for (const trigger of eventTriggers) triggersByEvent[trigger.event] = trigger;
  const operators = catalog.operators && catalog.operators.length ? catalog.operators : [
    { op: "eq", label: "is", needs_value: true }, { op: "ne", label: "is not", needs_value: true },
    { op: "contains", label: "contains", needs_value: true }, { op: "not_contains", label: "does not contain", needs_value: true },
    { op: "gt", label: "is greater than", needs_value: true }, { op: "gte", label: "is at least", needs_value: true },
    { op: "lt", label: "is less than", needs_value: true }, { op: "lte", label: "is at most", needs_value: true },
    { op: "is_empty", label: "is empty", needs_value: false }, { op: "is_not_empty", label: "is not empty", needs_value: false },
    { op: "changed", label: "changed", needs_value: false }, { op: "changed_to", label: "changed to", needs_value: true },
  ];
  const operatorOf = (op) => operators.find((o) => o.op === op) || { op, label: op, needs_value: true };

  function recordType() {
    const trigger = body.trigger || {};
    if (trigger.type === "event") return (triggersByEvent[trigger.event] || {}).record_type || "";
    if (trigger.type === "manual") return trigger.record_type || "contact";
    if (trigger.type === "schedule" && trigger.for_each === "member") return "member";
    return "";
  }
  function recordVariables(rt) {
    const info = (catalog.record_types || {})[rt];
    if (!info) return [];
    return (info.variables || []).map((v) => ({
      ...v,
      path: v.path.startsWith(`${rt}.`) ? v.path : `${rt}.${v.path}`,
    }));
  }

  // --- the step tree -----------------------------------------------------------------------------
  function* walk(steps) {
    for (const step of steps || []) {
      yield step;
      if (step.type === "branch") {
        yield* walk(step.then);
        yield* walk(step.else);
      }
    }
  }
  const findStep = (id) => {
    const visit = (list, parent, lane) => {
      for (let index = 0; index < list.length; index += 1) {
        const step = list[index];
        if (step.id === id) return { step, list, index, parent, lane };
        if (step.type === "branch") {
          const found = visit(step.then || (step.then = []), step, "then") || visit(step.else || (step.else = []), step, "else");
          if (found) return found;
        }
      }
      return null;
    };
    return visit(body.steps, null, null);
  };
  const listAt = (key) => {
    if (key === "root") return body.steps;
    const [id, lane] = key.split(":");
    const found = findStep(id);
    if (!found) return null;
    found.step[lane] = found.step[lane] || [];
    return found.step[lane];
  };
  const newStepId = () => {
    let high = 0;
    for (const step of walk(body.steps)) {
      const match = /^s(\d+)$/.exec(step.id || "");
      if (match) high = Math.max(high, Number(match[1]));
    }
    return `s${high + 1}`;
  };
  // The ids of the steps that run before this one on its path (a branch's lanes see the branch).
  function earlierIds(steps, target, earlier = []) {
    let seen = earlier;
    for (const step of steps || []) {
      if (step.id === target) return seen;
      if (step.type === "branch") {
        for (const lane of ["then", "else"]) {
          const found = earlierIds(step[lane], target, [...seen, step.id]);
          if (found) return found;
        }
      }
      seen = [...seen, step.id];
    }
    return null;
  }
  const stepNumber = (id) => {
    let n = 0;
    for (const step of walk(body.steps)) {
      n += 1;
      if (step.id === id) return n;
    }
    return 0;
  };

  // --- variables valid at a point -------------------------------------------------------------
  function variableGroups(stepId) {
    const groups = [];
    const rt = recordType();
    if (rt) {
      const label = ((catalog.record_types || {})[rt] || {}).label || rt;
      groups.push({ label, items: recordVariables(rt).map((v) => ({ path: v.path, label: v.label, kind: v.kind, choices: v.choices })) });
    }
    const trigger = body.trigger || {};
    const triggerItems = {
      event: [["trigger.event", "Event name"], ["trigger.at", "When it happened"]],
      schedule: [["trigger.slot", "Scheduled time"], ["trigger.cron", "Schedule"]],
      webhook: [["trigger.body", "Request body (JSON)"], ["trigger.webhook_id", "Webhook id"]],
      manual: [["trigger.by", "Started by"], ["trigger.at", "Started at"]],
    }[trigger.type] || [];
    groups.push({
      label: "Trigger",
      items: triggerItems.map(([path, label]) => ({ path, label, kind: "text" })),
      custom: trigger.type === "webhook" ? "trigger.body." : "",
    });
    groups.push({
      label: "Workflow",
      items: [
        { path: "workflow.name", label: "Workflow name" },
        { path: "org.name", label: "Organisation name" },
        { path: "now", label: "Now (date and time)", kind: "datetime" },
        { path: "today", label: "Today", kind: "date" },
      ],
    });
    if (stepId) {
      const earlier = earlierIds(body.steps, stepId) || [];
      for (const id of earlier) {
        const found = findStep(id);
        if (!found) continue;
        const keys = (typeInfo(found.step.type).outputs || OUTPUTS[found.step.type] || []).map((k) => (typeof k === "string" ? k : k.name));
        groups.push({
          label: `Step ${id} · ${typeInfo(found.step.type).label}`,
          items: keys.map((key) => ({ path: `steps.${id}.${key}`, label: key.replace(/_/g, " ") })),
          custom: found.step.type === "http_request" ? `steps.${id}.body.` : "",
        });
      }
    }
    return groups;
  }
  const flatVariables = (stepId) => variableGroups(stepId).flatMap((g) => g.items.map((item) => ({ ...item, group: g.label })));

  // --- changes and validation -----------------------------------------------------------------
  const validity = $("[data-validity]");
  const saveButton = $("[data-save]");
  let timer = null;
  const dirty = () => JSON.stringify(body) !== savedText;

  function changed({ redraw = true } = {}) {
    if (redraw) renderFlow();
    renderSettingsName();
    if (saveButton) saveButton.disabled = !dirty();
    clearTimeout(timer);
    timer = setTimeout(validate, 450);
    if (validity) setValidity("checking");
  }

  function setValidity(state) {
    if (!validity || readOnly) return;
    validity.replaceChildren();
    const count = Object.values(errors).reduce((n, list) => n + list.length, 0);
    if (state === "checking") validity.append(h("span.badge.bg-secondary-lt", {}, icon("ti-loader-2"), " Checking…"));
    else if (count) {
      validity.append(
        h("button.btn.btn-sm.btn-ghost-danger", { type: "button", onclick: focusFirstProblem }, icon("ti-alert-triangle"), ` ${count} problem${count === 1 ? "" : "s"}`),
      );
    } else validity.append(h("span.badge.bg-green-lt", {}, icon("ti-circle-check"), dirty() ? " Ready to save" : " No problems"));
  }

  async function validate() {
    if (readOnly) return;
    validating = true;
    const { ok, status, data } = await api("POST", config.validateUrl, body);
    validating = false;
    if (ok) errors = {};
    else if (status === 422) errors = data.errors || { __all__: [data.detail || "Not valid"] };
    else errors = { __all__: [data.detail || `The check failed (HTTP ${status})`] };
    nextRuns = data.next_runs || [];
    showErrors();
  }

  // The server names the step in each message ("Step s2 · HTTP request: URL: …"); on the step's own
  // card and fields that is said already.
  const stripPrefix = (message) => {
    let text = String(message).replace(/^Step \S+ · /, "");
    const label = Object.values(stepTypes).map((t) => t.label).filter((l) => text.startsWith(`${l}: `)).sort((a, b) => b.length - a.length)[0];
    if (label) text = text.slice(label.length + 2);
    return text;
  };
  function errorsFor(prefix, { exact = false } = {}) {
    return Object.entries(errors)
      .filter(([key]) => (exact ? key === prefix : key === prefix || key.startsWith(`${prefix}.`)))
      .flatMap(([, list]) => list);
  }
  function stepOfKey(key) {
    const match = /^steps\.([A-Za-z][A-Za-z0-9_]*)/.exec(key);
    return match && findStep(match[1]) ? match[1] : null;
  }

  function showErrors() {
    setValidity();
    renderFlow();
    renderProblems();
    refreshPanelErrors();
    renderNextRuns();
  }

  function renderProblems() {
    const box = $("[data-problems]");
    const list = $("[data-problem-list]");
    if (!box || !list) return;
    list.replaceChildren();
    const entries = Object.entries(errors);
    box.hidden = entries.length === 0;
    for (const [key, messages] of entries) {
      for (const message of messages) {
        const id = stepOfKey(key);
        const found = id ? findStep(id) : null;
        const where = found ? `${typeInfo(found.step.type).label} (${id})` : key.startsWith("trigger") ? "Trigger" : key === "name" ? "Name" : "";
        list.append(
          h("li.list-group-item", {},
            h("button.btn.btn-link.p-0.text-start.studio-problem", {
              type: "button",
              onclick: () => (id ? openStep(id) : key.startsWith("trigger") ? openTrigger() : $("#wf-name") && $("#wf-name").focus()),
            }, where ? h("strong", {}, `${where}: `) : null, stripPrefix(message)),
          ),
        );
      }
    }
  }

  function focusFirstProblem() {
    const first = $("[data-problem-list] button");
    if (first) first.click();
  }

  // --- toasts ------------------------------------------------------------------------------------
  function toast(message, tone = "success") {
    const box = $("[data-toasts]");
    if (!box) return;
    const node = h(`div.toast.show.studio-toast.is-${tone}`, { role: tone === "error" ? "alert" : "status" },
      h("div.d-flex.align-items-start.gap-2", {},
        icon(tone === "error" ? "ti-alert-triangle" : "ti-circle-check"),
        h("div.flex-fill", {}, message),
        h("button.btn-close", { type: "button", "aria-label": "Close", onclick: () => node.remove() }),
      ),
    );
    node.dataset.toast = tone;
    box.append(node);
    setTimeout(() => node.remove(), 6000);
  }

  // --- words for cards -------------------------------------------------------------------------
  const short = (text, length = 60) => {
    const value = String(text || "");
    return value.length > length ? `${value.slice(0, length - 1)}…` : value;
  };
  const variableLabel = (path) => {
    const found = flatVariables(null).find((v) => v.path === path);
    return found ? found.label : path;
  };
  function conditionWords(node) {
    const leaves = [];
    const visit = (n) => {
      if (Array.isArray(n)) n.forEach(visit);
      else if (n && (n.all || n.any)) (n.all || n.any).forEach(visit);
      else if (n && n.field) leaves.push(n);
    };
    visit(node);
    if (!leaves.length) return "";
    const first = leaves[0];
    const op = operatorOf(first.op);
    const words = `${variableLabel(first.field)} ${op.label}${op.needs_value ? ` “${short(first.value, 24)}”` : ""}`;
    const joiner = node && node.any ? "or" : "and";
    return leaves.length > 1 ? `${words} ${joiner} ${leaves.length - 1} more` : words;
  }
  const memberWords = (value) => {
    if (!value || value === "record_owner") return "the record's owner";
    if (value === "manager") return "the owner's team manager";
    if (value === "contact") return "the contact";
    if (String(value).startsWith("round_robin:")) {
      const team = (catalog.teams || []).find((t) => `round_robin:${t.id}` === value);
      return `${team ? team.label : "a team"} in turn`;
    }
    const id = String(value).replace(/^member:/, "");
    const member = (catalog.members || []).find((m) => String(m.id) === id);
    return member ? member.label : "a member";
  };
  function minutesWords(minutes) {
    const m = Number(minutes) || 0;
    if (m && m % 1440 === 0) return `${m / 1440} day${m === 1440 ? "" : "s"}`;
    if (m && m % 60 === 0) return `${m / 60} hour${m === 60 ? "" : "s"}`;
    return `${m} minute${m === 1 ? "" : "s"}`;
  }
  const WEEKDAYS = [["mon", "Monday"], ["tue", "Tuesday"], ["wed", "Wednesday"], ["thu", "Thursday"], ["fri", "Friday"], ["sat", "Saturday"], ["sun", "Sunday"]];
  function stepSummary(step) {
    switch (step.type) {
      case "branch": {
        const words = conditionWords(step.conditions);
        return words ? `If ${words}` : "No condition yet";
      }
      case "delay":
        if (step.until_field) return `Until ${variableLabel(step.until_field)}`;
        if (step.time) return `Until ${step.weekday ? (WEEKDAYS.find(([k]) => k === step.weekday) || [0, step.weekday])[1] : "the next"} ${step.time}`;
        return `For ${minutesWords(step.minutes)}`;
      case "send_email":
        return `To ${memberWords(step.to)}${step.subject ? `: “${short(step.subject, 40)}”` : ""}`;
      case "http_request":
        return `${step.method || "POST"} ${short(step.url || "(no URL yet)", 48)}`;
      case "ai":
        return step.task === "classify" ? `Classify into ${(step.labels || []).join(", ") || "…"}` : `Summarise ${short(step.text, 40)}`;
      case "create_task":
        return `“${short(step.title || "(no title yet)", 40)}” for ${memberWords(step.assignee)}`;
      case "update_field":
        return `Set ${step.field || "a field"} to “${short(step.value, 30)}”`;
      case "add_tag":
      case "remove_tag":
        return `“${step.tag || "…"}”`;
      case "assign_owner":
        return `To ${memberWords(step.assignee)}`;
      case "create_note":
        return short(step.subject || step.body || "(empty note)", 60);
      case "upsert_contact":
        return `By email ${short(step.email || "…", 40)}`;
      default: {
        const values = Object.entries(step).filter(([k, v]) => !["id", "type"].includes(k) && typeof v !== "object");
        return values.map(([, v]) => short(v, 30)).join(" · ");
      }
    }
  }
  function cronWords(cron) {
    const parts = String(cron || "").trim().split(/\s+/);
    if (parts.length !== 5) return cron ? `cron ${cron}` : "No schedule yet";
    const [minute, hour, day, month, weekday] = parts;
    const at = /^\d+$/.test(hour) && /^\d+$/.test(minute) ? `${hour.padStart(2, "0")}:${minute.padStart(2, "0")}` : "";
    if (at && day === "*" && month === "*") {
      if (weekday === "*") return `Every day at ${at}`;
      if (weekday === "1-5") return `Weekdays at ${at}`;
      const names = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
      if (/^[0-7]$/.test(weekday)) return `Every ${names[Number(weekday)]} at ${at}`;
    }
    if (at && /^\d+$/.test(day) && month === "*" && weekday === "*") return `Day ${day} of every month at ${at}`;
    if (/^\d+$/.test(minute) && hour === "*" && day === "*" && month === "*" && weekday === "*") return `Every hour at :${minute.padStart(2, "0")}`;
    return `cron ${cron}`;
  }
  // The trigger card's two lines: what starts a run, then what narrows it.
  function triggerWords() {
    const trigger = body.trigger || {};
    if (trigger.type === "event") {
      const info = triggersByEvent[trigger.event];
      const parts = [];
      if ((trigger.watch || []).length) parts.push(`when ${trigger.watch.map((f) => f.replace(/_/g, " ")).join(", ")} change`);
      const words = conditionWords(trigger.conditions);
      if (words) parts.push(`only if ${words}`);
      return [info ? info.label : trigger.event || "Choose an event", parts.join(" · ") || "Every time"];
    }
    if (trigger.type === "schedule") {
      return [cronWords(trigger.cron), `${trigger.timezone || "UTC"}${trigger.for_each === "member" ? " · once for each member" : ""}`];
    }
    if (trigger.type === "webhook") return ["Webhook received", "A signed POST to the workflow's address"];
    if (trigger.type === "manual") {
      const label = (((catalog.record_types || {})[trigger.record_type || "contact"] || {}).label || "record").toLowerCase();
      return ["Started by hand", `On ${label}s chosen in the CRM`];
    }
    return ["Choose a trigger", ""];
  }
  const triggerSummary = () => triggerWords().filter(Boolean).join(" · ");
  const TRIGGER_KINDS = [
    ["event", "Something happens", "ti-bolt", "A record is created or changes, a call is analysed…"],
    ["schedule", "On a schedule", "ti-calendar-time", "A time of day, a day of the week…"],
    ["webhook", "A webhook is called", "ti-webhook", "Another tool sends signed JSON"],
    ["manual", "Started by hand", "ti-hand-click", "From the CRM list's bulk bar"],
  ];

  // --- the flow ----------------------------------------------------------------------------------
  const flow = $("[data-flow]");
  let sortables = [];

  function renderFlow() {
    const focusKey = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.focusKey : null;
    sortables.forEach((s) => s.destroy());
    sortables = [];
    const triggerErrors = errorsFor("trigger").length + errorsFor("reenrol").length;
    const kind = TRIGGER_KINDS.find(([k]) => k === (body.trigger || {}).type) || TRIGGER_KINDS[0];
    const triggerCard = h("div.studio-node.studio-trigger-node" + (triggerErrors ? ".has-errors" : ""), { dataset: { node: "trigger" }, id: "trigger" },
      h("div.studio-node-kind", {}, icon("ti-bolt"), ` Trigger · ${kind[1]}`),
      h("button.btn.studio-node-main", { type: "button", onclick: openTrigger, dataset: { focusKey: "trigger" } },
        h("span.visually-hidden", {}, "Trigger: "),
        h("span.studio-step-icon.is-trigger", { "aria-hidden": "true" }, icon(kind[2])),
        h("span.studio-node-text", {},
          h("span.studio-node-title", {}, triggerWords()[0]),
          h("span.studio-node-summary", {}, triggerWords()[1]),
        ),
        triggerErrors ? h("span.badge.bg-red-lt.studio-node-errors", {}, icon("ti-alert-triangle"), ` ${triggerErrors}`, h("span.visually-hidden", {}, ` problem${triggerErrors === 1 ? "" : "s"}`)) : null,
      ),
    );
    const end = h("div.studio-end", {}, h("span", {}, icon("ti-flag"), " End"));
    flow.replaceChildren(triggerCard, renderList(body.steps, "root", 0), end);
    if (focusKey) {
      const again = flow.querySelector(`[data-focus-key="${CSS.escape(focusKey)}"]`);
      if (again) again.focus();
    }
  }

  function addButton(listKey, index, label) {
    if (readOnly) return h("div.studio-connector", { "aria-hidden": "true" });
    const key = `add:${listKey}:${index}`;
    return h("div.studio-connector", {},
      h("button.btn.btn-icon.btn-sm.studio-add", {
        type: "button",
        "aria-label": label,
        title: "Add a step here",
        dataset: { focusKey: key, add: listKey, index: String(index) },
        onclick: () => openAdd(listKey, index),
      }, icon("ti-plus")),
    );
  }

  function renderList(steps, listKey, depth) {
    const list = h("ol.studio-list", { dataset: { list: listKey }, "aria-label": listKey === "root" ? "Steps" : listKey.endsWith(":then") ? "Steps when the conditions hold" : "Steps otherwise" });
    steps.forEach((step, index) => {
      const where = listKey === "root" ? "" : listKey.endsWith(":then") ? " on the yes path" : " on the no path";
      list.append(h("li.studio-item", { dataset: { stepId: step.id } },
        addButton(listKey, index, `Add a step before step ${stepNumber(step.id)}${where}`),
        renderStep(step, depth, index, steps.length),
      ));
    });
    const placeLabel = listKey === "root" ? "Add a step at the end" : listKey.endsWith(":then") ? "Add a step to the yes path" : "Add a step to the no path";
    const first = !steps.length && listKey === "root" && !readOnly;
    const tail = h("li.studio-item.studio-tail", {}, first ? h("div.studio-connector", { "aria-hidden": "true" }) : addButton(listKey, steps.length, placeLabel));
    if (first) {
      tail.append(h("div.studio-first", {}, h("button.btn.btn-primary", { type: "button", onclick: () => openAdd("root", 0), dataset: { focusKey: "first-step" } }, icon("ti-plus"), "Add the first step")));
    }
    list.append(tail);
    if (!readOnly && window.Sortable) {
      sortables.push(window.Sortable.create(list, {
        group: "steps",
        handle: ".studio-grip",
        draggable: ".studio-item:not(.studio-tail)",
        animation: 150,
        ghostClass: "studio-ghost",
        fallbackOnBody: true,
        onEnd: (event) => {
          const from = listAt(event.from.dataset.list);
          const to = listAt(event.to.dataset.list);
          if (!from || !to) return renderFlow();
          const [moved] = from.splice(event.oldDraggableIndex, 1);
          if (moved.type === "branch" && event.to.closest(`[data-step-id="${CSS.escape(moved.id)}"]`)) {
            from.splice(event.oldDraggableIndex, 0, moved); // a branch cannot go inside itself
          } else {
            to.splice(event.newDraggableIndex, 0, moved);
          }
          changed();
        },
      }));
    }
    return list;
  }

  function renderStep(step, depth, index, count) {
    const info = typeInfo(step.type);
    const problems = errorsFor(`steps.${step.id}`);
    const number = stepNumber(step.id);
    const card = h("div.studio-node" + (problems.length ? ".has-errors" : "") + (step.type === "branch" ? ".studio-branch-node" : ""), { dataset: { node: step.id } });
    const head = h("div.studio-node-head", {});
    if (!readOnly) head.append(h("span.studio-grip", { title: "Drag to move", "aria-hidden": "true" }, icon("ti-grip-vertical")));
    head.append(
      h("button.btn.studio-node-main", {
        type: "button",
        onclick: () => openStep(step.id),
        dataset: { focusKey: `step:${step.id}` },
      },
        h("span.visually-hidden", {}, `Step ${number}: `),
        h("span.studio-step-icon", { "aria-hidden": "true", dataset: { group: info.group || "Records" } }, icon(typeIcon(step.type))),
        h("span.studio-node-text", {},
          h("span.studio-node-title", {}, info.label, h("span.studio-node-id", {}, step.id)),
          h("span.studio-node-summary", {}, stepSummary(step)),
        ),
        problems.length ? h("span.badge.bg-red-lt.studio-node-errors", {}, icon("ti-alert-triangle"), ` ${problems.length}`, h("span.visually-hidden", {}, ` problem${problems.length === 1 ? "" : "s"}`)) : null,
      ),
    );
    if (!readOnly) head.append(stepMenu(step, index, count, number));
    card.append(head);
    if (problems.length) card.append(h("p.studio-node-error", {}, stripPrefix(problems[0])));
    if (step.type === "branch") {
      step.then = step.then || [];
      step.else = step.else || [];
      card.append(h("div.studio-lanes", {},
        h("div.studio-lane.is-yes", {}, h("div.studio-lane-label", {}, icon("ti-check"), " Yes"), renderList(step.then, `${step.id}:then`, depth + 1)),
        h("div.studio-lane.is-no", {}, h("div.studio-lane-label", {}, icon("ti-x"), " No"), renderList(step.else, `${step.id}:else`, depth + 1)),
      ));
    }
    return card;
  }

  function stepMenu(step, index, count, number) {
    const item = (label, iconName, action, extra = {}) =>
      h("li", {}, h("button.dropdown-item", { type: "button", onclick: action, ...extra }, icon(`${iconName} me-2`), label));
    return h("div.dropdown.studio-node-menu", {},
      h("button.btn.btn-icon.btn-ghost-secondary.btn-sm", { type: "button", "data-bs-toggle": "dropdown", "aria-expanded": "false", "aria-label": `Actions for step ${number}`, dataset: { focusKey: `menu:${step.id}` } }, icon("ti-dots-vertical")),
      h("ul.dropdown-menu.dropdown-menu-end", {},
        item("Edit", "ti-pencil", () => openStep(step.id)),
        index > 0 ? item("Move up", "ti-arrow-up", () => moveStep(step.id, -1)) : null,
        index < count - 1 ? item("Move down", "ti-arrow-down", () => moveStep(step.id, 1)) : null,
        step.type !== "branch" ? item("Duplicate", "ti-copy", () => duplicateStep(step.id)) : null,
        h("li", {}, h("hr.dropdown-divider")),
        item("Delete", "ti-trash", () => deleteStep(step.id), { class: "text-danger" }),
      ),
    );
  }

  function moveStep(id, by) {
    const found = findStep(id);
    if (!found) return;
    const target = found.index + by;
    if (target < 0 || target >= found.list.length) return;
    found.list.splice(found.index, 1);
    found.list.splice(target, 0, found.step);
    changed();
    const again = flow.querySelector(`[data-focus-key="menu:${CSS.escape(id)}"]`);
    if (again) again.focus();
  }
  function duplicateStep(id) {
    const found = findStep(id);
    if (!found) return;
    const copy = { ...clone(found.step), id: newStepId() };
    found.list.splice(found.index + 1, 0, copy);
    changed();
    openStep(copy.id);
  }
  function deleteStep(id) {
    const found = findStep(id);
    if (!found) return;
    const inside = found.step.type === "branch" ? [...walk([found.step])].length - 1 : 0;
    const question = inside
      ? `Delete this branch and the ${inside} step${inside === 1 ? "" : "s"} under it?`
      : `Delete step ${stepNumber(id)} (${typeInfo(found.step.type).label})?`;
    if (!window.confirm(question)) return;
    found.list.splice(found.index, 1);
    if (panelTarget && panelTarget.kind === "step" && panelTarget.id === id) closePanel();
    changed();
    const next = flow.querySelector(".studio-node-main, .studio-add");
    if (next) next.focus();
  }

  // --- the side panel ----------------------------------------------------------------------------
  const panel = $("#step-panel");
  const panelBody = $("[data-panel-body]");
  const panelTitle = $("[data-panel-title]");
  const panelSubtitle = $("[data-panel-subtitle]");
  const panelIcon = $("[data-panel-icon]");
  const panelFooter = $("[data-panel-footer]");
  const offcanvas = () => bs().Offcanvas.getOrCreateInstance(panel);
  let panelReturn = null;

  function showPanel(title, subtitle, iconName) {
    panelTitle.textContent = title;
    panelSubtitle.textContent = subtitle || "";
    panelIcon.replaceChildren(icon(iconName));
    if (panel.classList.contains("hiding")) {
      showAfterHide = true; // opened again while closing: show it once the closing is over
    } else if (!panel.classList.contains("show")) {
      panelReturn = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.focusKey : null;
      offcanvas().show();
    }
    panelBody.scrollTop = 0;
  }
  function closePanel() {
    if (panel.classList.contains("show")) offcanvas().hide();
  }
  let showAfterHide = false;
  panel.addEventListener("hidden.bs.offcanvas", () => {
    if (showAfterHide) {
      showAfterHide = false;
      offcanvas().show();
      return;
    }
    panelTarget = null;
    panelBody.replaceChildren();
    const back = panelReturn && flow.querySelector(`[data-focus-key="${CSS.escape(panelReturn)}"]`);
    if (back) back.focus();
  });
  panel.addEventListener("shown.bs.offcanvas", () => {
    const first = panelBody.querySelector("input:not([type=hidden]):not([disabled]), select:not([disabled]), textarea:not([disabled]), button.studio-type");
    if (first) first.focus();
  });

  function footer(buttons) {
    panelFooter.replaceChildren(...buttons);
  }

  // Fields -----------------------------------------------------------------------------------
  // field(): a labelled control with its help, its errors (data-error-key) and, for templates, the
  // variable picker beside it.
  function field({ label, key, control, help, required, picker, stepId }) {
    const id = control.id || nextId("f");
    control.id = id;
    if (readOnly) control.disabled = true;
    const helpId = help ? `${id}-help` : null;
    const errorId = `${id}-error`;
    control.setAttribute("aria-describedby", [helpId, errorId].filter(Boolean).join(" "));
    const row = h("div.mb-3.studio-field", { dataset: { errorKey: key || "" } },
      h("label.form-label" + (required ? ".required" : ""), { for: id }, label),
    );
    if (picker && !readOnly) {
      row.append(h("div.studio-with-picker", {}, control, variableButton(control, stepId, label)));
    } else row.append(control);
    if (help) row.append(h("div.form-hint", { id: helpId }, help));
    row.append(h("div.invalid-feedback", { id: errorId }));
    return row;
  }
  const input = (attrs) => h("input.form-control", { type: "text", autocomplete: "off", ...attrs });
  const textarea = (attrs) => h("textarea.form-control", { rows: "4", ...attrs });
  function select(options, current, attrs = {}) {
    const node = h("select.form-select", attrs);
    const add = (parent, [value, label]) => parent.append(h("option", { value, selected: String(value) === String(current ?? "") }, label));
    for (const option of options) {
      if (option.group) {
        const group = h("optgroup", { label: option.group });
        option.options.forEach((o) => add(group, o));
        node.append(group);
      } else add(node, option);
    }
    return node;
  }

  // The variable picker: a menu of the variables valid at this step; choosing one inserts
  // {{ path }} where the cursor was.
  function variableButton(target, stepId, label) {
    const button = h("button.btn.btn-icon.studio-var-btn", { type: "button", "aria-label": `Insert a variable into ${label}`, title: "Insert a variable", "aria-haspopup": "true", "aria-expanded": "false" }, icon("ti-braces"));
    button.addEventListener("click", () => openVariableMenu(button, target, stepId));
    return button;
  }
  let openMenu = null;
  function closeVariableMenu(focusBack = true) {
    if (!openMenu) return;
    const { menu, button } = openMenu;
    menu.remove();
    button.setAttribute("aria-expanded", "false");
    if (focusBack) button.focus();
    openMenu = null;
  }
  function insertAtCursor(target, text, range) {
    const value = target.value;
    const [start, end] = range || [value.length, value.length];
    target.value = value.slice(0, start) + text + value.slice(end);
    const at = start + text.length;
    target.focus();
    target.setSelectionRange(at, at);
    target.dispatchEvent(new Event("input", { bubbles: true }));
  }
  function openVariableMenu(button, target, stepId) {
    if (openMenu && openMenu.button === button) return closeVariableMenu();
    closeVariableMenu(false);
    const range = typeof target.selectionStart === "number" ? [target.selectionStart, target.selectionEnd] : null;
    const searchId = nextId("var-search");
    const search = h("input.form-control.form-control-sm", { type: "search", id: searchId, placeholder: "Find a variable", autocomplete: "off" });
    const list = h("div.studio-var-list", { role: "listbox", "aria-label": "Variables valid at this step" });
    const choose = (path) => {
      closeVariableMenu(false);
      insertAtCursor(target, `{{ ${path} }}`, range);
    };
    const draw = () => {
      const q = search.value.trim().toLowerCase();
      list.replaceChildren();
      for (const group of variableGroups(stepId)) {
        const items = group.items.filter((item) => !q || item.path.toLowerCase().includes(q) || String(item.label).toLowerCase().includes(q));
        if (!items.length && !group.custom) continue;
        list.append(h("div.studio-var-group", { role: "presentation" }, group.label));
        for (const item of items) {
          list.append(h("button.dropdown-item.studio-var", { type: "button", role: "option", onclick: () => choose(item.path), dataset: { path: item.path } },
            h("span.studio-var-label", {}, item.label), h("code", {}, item.path)));
        }
        if (group.custom && q && !q.includes(" ")) {
          const path = `${group.custom}${search.value.trim().replace(/^\{\{\s*|\s*\}\}$/g, "")}`;
          list.append(h("button.dropdown-item.studio-var", { type: "button", role: "option", onclick: () => choose(path) },
            h("span.studio-var-label", {}, "Use this key"), h("code", {}, path)));
        }
      }
      if (!list.childElementCount) list.append(h("p.help.m-2", {}, "No variable matches."));
    };
    search.addEventListener("input", draw);
    const menu = h("div.studio-var-menu", { role: "dialog", "aria-label": "Variables" },
      h("label.visually-hidden", { for: searchId }, "Find a variable"),
      search,
      list,
      h("p.help.m-0.mt-1", {}, "Only variables known at this step are listed."),
    );
    menu.addEventListener("keydown", (event) => {
      const options = $$(".studio-var", menu);
      const at = options.indexOf(document.activeElement);
      if (event.key === "Escape") {
        event.preventDefault();
        event.stopPropagation();
        closeVariableMenu();
      } else if (event.key === "ArrowDown") {
        event.preventDefault();
        (options[at + 1] || options[0])?.focus();
      } else if (event.key === "ArrowUp") {
        event.preventDefault();
        (at <= 0 ? search : options[at - 1]).focus();
      }
    });
    button.closest(".studio-field").append(menu);
    button.setAttribute("aria-expanded", "true");
    openMenu = { menu, button };
    draw();
    search.focus();
  }
  document.addEventListener("click", (event) => {
    if (openMenu && !openMenu.menu.contains(event.target) && !openMenu.button.contains(event.target)) closeVariableMenu(false);
  });

  function refreshPanelErrors() {
    if (!panelTarget) return;
    const prefix = panelTarget.kind === "trigger" ? "trigger" : panelTarget.kind === "step" ? `steps.${panelTarget.id}` : null;
    if (!prefix) return;
    const claimed = new Set();
    $$("[data-error-key]", panelBody).forEach((row) => {
      const key = row.dataset.errorKey;
      const messages = key ? Object.entries(errors).filter(([k]) => k === key || (row.dataset.errorPrefix && k.startsWith(`${key}.`))).flatMap(([k, list]) => {
        claimed.add(k);
        return list;
      }) : [];
      const control = row.querySelector(".form-control, .form-select");
      const feedback = row.querySelector(":scope > .invalid-feedback");
      if (control) {
        control.classList.toggle("is-invalid", messages.length > 0);
        control.setAttribute("aria-invalid", messages.length ? "true" : "false");
      }
      if (feedback) {
        feedback.textContent = messages.map(stripPrefix).join(" ");
        feedback.classList.toggle("d-block", messages.length > 0);
      }
    });
    const rest = Object.entries(errors).filter(([k]) => (k === prefix || k.startsWith(`${prefix}.`)) && !claimed.has(k));
    const box = $("[data-panel-errors]", panelBody);
    if (box) {
      box.replaceChildren(...rest.flatMap(([, list]) => list.map((m) => h("div", {}, stripPrefix(m)))));
      box.hidden = rest.length === 0;
    }
  }

  // Trigger -------------------------------------------------------------------------------------
  function openTrigger() {
    panelTarget = { kind: "trigger" };
    showPanel("Trigger", "What starts a run", "ti-bolt");
    drawTriggerPanel();
    footer([h("button.btn.btn-primary", { type: "button", onclick: closePanel }, "Done")]);
  }

  function drawTriggerPanel() {
    const trigger = body.trigger;
    const parts = [h("div.alert.alert-danger.studio-panel-errors", { role: "alert", dataset: { panelErrors: "" }, hidden: true })];
    const kinds = h("fieldset.studio-kinds", {}, h("legend.form-label", {}, "Start this workflow when"));
    for (const [value, label, iconName, hint] of TRIGGER_KINDS) {
      const id = nextId("kind");
      kinds.append(h("label.studio-kind", { for: id },
        h("input.form-check-input", { type: "radio", name: "trigger-kind", id, value, checked: trigger.type === value, disabled: readOnly, onchange: () => setTriggerType(value) }),
        h("span.studio-kind-icon", { "aria-hidden": "true" }, icon(iconName)),
        h("span", {}, h("span.studio-kind-label", {}, label), h("span.help.d-block", {}, hint)),
      ));
    }
    parts.push(kinds);
    if (trigger.type === "event") parts.push(...eventFields(trigger));
    else if (trigger.type === "schedule") parts.push(...scheduleFields(trigger));
    else if (trigger.type === "webhook") parts.push(...webhookFields());
    else if (trigger.type === "manual") parts.push(...manualFields(trigger));
    if (trigger.type !== "webhook" && !(trigger.type === "schedule" && trigger.for_each !== "member")) {
      const fieldset = h("fieldset.mb-3", { dataset: { errorKey: "reenrol" } }, h("legend.form-label", {}, "A record can enter this workflow"));
      for (const [value, label] of [["every", "Every time the trigger fires"], ["once", "Only once"]]) {
        const id = nextId("reenrol");
        fieldset.append(h("label.form-check", { for: id },
          h("input.form-check-input", { type: "radio", name: "reenrol", id, value, checked: body.reenrol === value, disabled: readOnly, onchange: () => { body.reenrol = value; changed(); } }),
          h("span.form-check-label", {}, label)));
      }
      parts.push(fieldset);
    }
    panelBody.replaceChildren(...parts);
    refreshPanelErrors();
    renderNextRuns();
  }

  function setTriggerType(type) {
    const old = body.trigger || {};
    if (type === "event") body.trigger = { type, event: old.event || (eventTriggers[0] || {}).event || "contact.created", conditions: old.conditions || { all: [] } };
    if (type === "schedule") body.trigger = { type, cron: old.cron || "0 9 * * 1-5", timezone: old.timezone || Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC" };
    if (type === "webhook") body.trigger = { type };
    if (type === "manual") body.trigger = { type, record_type: old.record_type || "contact" };
    changed();
    drawTriggerPanel();
    const radio = panelBody.querySelector(`input[name="trigger-kind"][value="${type}"]`);
    if (radio) radio.focus();
  }

  function eventFields(trigger) {
    const groups = {};
    for (const t of eventTriggers) {
      const label = ((catalog.record_types || {})[t.record_type] || {}).label || t.record_type || "Other";
      (groups[label] = groups[label] || []).push([t.event, t.label]);
    }
    const options = Object.entries(groups).map(([group, opts]) => ({ group, options: opts }));
    if (trigger.event && !triggersByEvent[trigger.event]) options.unshift([trigger.event, trigger.event]);
    const eventSelect = select(options, trigger.event, { onchange: (event) => {
      trigger.event = event.target.value;
      if (!(triggersByEvent[trigger.event] || {}).watch) delete trigger.watch;
      changed();
      drawTriggerPanel();
    } });
    const parts = [field({ label: "Event", key: "trigger.event", control: eventSelect, required: true })];
    const info = triggersByEvent[trigger.event] || {};
    if (info.watch) {
      const fieldset = h("fieldset.mb-3.studio-field", { dataset: { errorKey: "trigger.watch" } },
        h("legend.form-label", {}, "Only when one of these fields changes"),
        h("div.form-hint.mb-2", {}, "Leave all unticked to start on any change. Conditions below can test “changed” and “changed to”."));
      const boxes = h("div.studio-watch");
      const fields = (catalog.fields || {})[info.record_type] || recordVariables(info.record_type).filter((v) => !["id", "object"].includes(v.kind) && !v.path.endsWith(".url")).map((v) => ({ name: v.path.split(".").slice(1).join("."), label: v.label }));
      for (const f of fields) {
        const id = nextId("watch");
        boxes.append(h("label.form-check", { for: id },
          h("input.form-check-input", { type: "checkbox", id, value: f.name, checked: (trigger.watch || []).includes(f.name), disabled: readOnly, onchange: (event) => {
            const set = new Set(trigger.watch || []);
            if (event.target.checked) set.add(f.name);
            else set.delete(f.name);
            trigger.watch = fields.map((x) => x.name).filter((n) => set.has(n));
            if (!trigger.watch.length) delete trigger.watch;
            changed();
          } }),
          h("span.form-check-label", {}, f.label)));
      }
      fieldset.append(boxes, h("div.invalid-feedback"));
      parts.push(fieldset);
    }
    trigger.conditions = normaliseGroup(trigger.conditions);
    parts.push(conditionSection({
      title: "Only start a run when",
      hint: "Records that do not match never start a run. Leave empty to start on every event.",
      node: trigger.conditions,
      keyPrefix: "trigger.conditions",
      stepId: null,
      allowChange: Boolean(info.watch),
    }));
    return parts;
  }

  const CRON_PRESETS = [
    ["0 9 * * 1-5", "Weekdays at 09:00"],
    ["0 8 * * *", "Every day at 08:00"],
    ["0 9 * * 1", "Every Monday at 09:00"],
    ["0 * * * *", "Every hour"],
    ["0 9 1 * *", "The first of each month at 09:00"],
  ];
  function scheduleFields(trigger) {
    const cron = input({ value: trigger.cron || "", class: "mono", spellcheck: "false", placeholder: "0 9 * * 1-5", oninput: (event) => { trigger.cron = event.target.value.trim(); changed(); } });
    const preset = select([["", "Choose a common schedule…"], ...CRON_PRESETS], "", { onchange: (event) => {
      if (!event.target.value) return;
      trigger.cron = event.target.value;
      cron.value = trigger.cron;
      event.target.value = "";
      changed();
    } });
    let zones = [];
    try {
      zones = Intl.supportedValuesOf("timeZone");
    } catch (error) {
      zones = ["UTC", "Europe/London", "Europe/Paris", "America/New_York"];
    }
    if (trigger.timezone && !zones.includes(trigger.timezone)) zones = [trigger.timezone, ...zones];
    if (!zones.includes("UTC")) zones = ["UTC", ...zones];
    const tz = select(zones.map((z) => [z, z.replace(/_/g, " ")]), trigger.timezone || "UTC", { onchange: (event) => { trigger.timezone = event.target.value; changed(); } });
    const forEach = select([["", "Once"], ["member", "Once for each member (their own record)"]], trigger.for_each || "", { onchange: (event) => {
      if (event.target.value) trigger.for_each = event.target.value;
      else delete trigger.for_each;
      changed();
      drawTriggerPanel();
    } });
    return [
      field({ label: "Common schedules", control: preset }),
      field({ label: "Cron expression", key: "trigger.cron", control: cron, required: true, help: "minute hour day-of-month month day-of-week, e.g. 0 9 * * 1-5 (09:00 on weekdays)" }),
      field({ label: "Time zone", key: "trigger.timezone", control: tz }),
      h("div.studio-next-runs", { dataset: { nextRuns: "" }, "aria-live": "polite" }),
      field({ label: "Each time, run", key: "trigger.for_each", control: forEach, help: "For each member: one run per member, with {{ member.* }} variables (e.g. to email each agent their overdue tasks)." }),
    ];
  }
  function renderNextRuns() {
    const box = panelBody && $("[data-next-runs]", panelBody);
    if (!box) return;
    const trigger = body.trigger || {};
    box.replaceChildren(h("h3.h5", {}, "Next five runs"));
    if (errorsFor("trigger.cron").length) {
      box.append(h("p.help", {}, "Fix the expression to see when it runs."));
      return;
    }
    if (!nextRuns.length) {
      box.append(h("p.help", {}, validating ? "Working them out…" : `${cronWords(trigger.cron)}.`));
      return;
    }
    const format = new Intl.DateTimeFormat(undefined, { weekday: "short", day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit", timeZone: trigger.timezone || "UTC" });
    box.append(h("ol.studio-next-list", {}, nextRuns.slice(0, 5).map((at) => {
      const date = new Date(at);
      return h("li", {}, icon("ti-calendar-event"), " ", Number.isNaN(date.getTime()) ? String(at) : format.format(date));
    })));
  }

  function webhookFields() {
    if (!webhookUrl) {
      return [h("div.alert.alert-info", {}, "Save the workflow to get its webhook address and signing secret.")];
    }
    const urlBox = h("code.form-control.secret", { id: "webhook-url" }, webhookUrl);
    const parts = [
      h("div.mb-3", {},
        h("div.form-label", { id: "webhook-url-label" }, "Webhook address"),
        h("div.input-group", { role: "group", "aria-labelledby": "webhook-url-label" }, urlBox,
          h("button.btn", { type: "button", onclick: async (event) => {
            await navigator.clipboard.writeText(webhookUrl);
            event.currentTarget.textContent = "Copied";
          } }, icon("ti-copy"), "Copy")),
        h("div.form-hint", {}, "POST JSON to it, signed with the workflow's secret (Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature headers). A bad signature is refused (401) and starts nothing. Steps read the body as {{ trigger.body.… }}."),
      ),
    ];
    if (!readOnly && rotateUrl) {
      parts.push(h("form.mb-3", { method: "post", action: rotateUrl, onsubmit: (event) => {
        if (!window.confirm("Make a new secret? Senders using the old one are refused from now on.")) event.preventDefault();
      } },
        h("input", { type: "hidden", name: "csrfmiddlewaretoken", value: csrfToken() }),
        h("button.btn", { type: "submit" }, icon("ti-refresh"), "Rotate the signing secret"),
        h("div.form-hint", {}, "The new secret is shown once, on the next page."),
      ));
    }
    return parts;
  }

  function manualFields(trigger) {
    const types = Object.entries(catalog.record_types || {}).filter(([name]) => name !== "member").map(([name, info]) => [name, info.label || name]);
    const control = select(types.length ? types : [["contact", "Contact"]], trigger.record_type || "contact", { onchange: (event) => { trigger.record_type = event.target.value; changed(); } });
    return [
      field({ label: "It runs on", key: "trigger.record_type", control }),
      h("div.alert.alert-info", {}, icon("ti-info-circle me-1"), "Once enabled, start it from the CRM: select contacts in a list, then choose “Run a workflow…” in the bar at the bottom."),
    ];
  }

  // Conditions ------------------------------------------------------------------------------------
  function normaliseGroup(node) {
    if (!node) return { all: [] };
    if (Array.isArray(node)) return { all: node };
    if (node.all || node.any) return node;
    if (node.field) return { all: [node] };
    return { all: [] };
  }
  const groupKey = (node) => (node.any ? "any" : "all");

  function conditionSection({ title, hint, node, keyPrefix, stepId, allowChange }) {
    const section = h("fieldset.studio-conditions.mb-3", { dataset: { errorKey: keyPrefix } },
      h("legend.form-label", {}, title),
      hint ? h("div.form-hint.mb-2", {}, hint) : null,
    );
    section.append(conditionGroup(node, null, keyPrefix, stepId, allowChange, 0, () => section.replaceWith(conditionSection({ title, hint, node, keyPrefix, stepId, allowChange }))));
    section.append(h("div.invalid-feedback"));
    return section;
  }

  function conditionGroup(node, parent, path, stepId, allowChange, depth, redraw) {
    const mode = groupKey(node);
    const items = node[mode];
    const box = h("div.studio-cond-group", { dataset: { depth: String(depth) } });
    const modeSelect = select([["all", "all"], ["any", "any"]], mode, { class: "form-select-sm studio-cond-mode", "aria-label": depth ? "Nested group: match all or any" : "Match all or any", onchange: (event) => {
      const list = node[mode];
      delete node[mode];
      node[event.target.value] = list;
      changed();
      redraw();
    } });
    if (readOnly) modeSelect.disabled = true;
    const head = h("div.studio-cond-head", {}, h("span", {}, "Match"), modeSelect, h("span", {}, items.length === 1 ? "of this condition" : "of these conditions"));
    if (parent && !readOnly) {
      head.append(h("button.btn.btn-sm.btn-ghost-danger.ms-auto", { type: "button", onclick: () => {
        parent.splice(parent.indexOf(node), 1);
        changed();
        redraw();
      } }, icon("ti-trash"), "Remove group"));
    }
    box.append(head);
    const list = h("ol.studio-cond-list", {});
    items.forEach((item, index) => {
      const at = `${path}.${mode}.${index}`;
      if (item && (item.all || item.any)) {
        list.append(h("li", {}, conditionGroup(item, items, at, stepId, allowChange, depth + 1, redraw)));
      } else {
        list.append(h("li", {}, conditionRow(item, items, at, stepId, allowChange, index + 1, redraw)));
      }
    });
    if (!items.length) list.append(h("li.help.studio-cond-empty", {}, depth ? "An empty group always holds." : "No condition: always."));
    box.append(list);
    if (!readOnly) {
      const vars = flatVariables(stepId).filter((v) => v.kind !== "id" && v.kind !== "object");
      box.append(h("div.btn-list.studio-cond-add", {},
        h("button.btn.btn-sm", { type: "button", onclick: () => {
          items.push({ field: (vars[0] || {}).path || "", op: "eq", value: "" });
          changed();
          redraw();
        } }, icon("ti-plus"), "Condition"),
        depth < 4 ? h("button.btn.btn-sm.btn-ghost-secondary", { type: "button", onclick: () => {
          items.push({ [mode === "all" ? "any" : "all"]: [{ field: (vars[0] || {}).path || "", op: "eq", value: "" }] });
          changed();
          redraw();
        } }, icon("ti-brackets"), mode === "all" ? "“Or” group" : "“And” group") : null,
      ));
    }
    return box;
  }

  function conditionRow(leaf, items, path, stepId, allowChange, number, redraw) {
    const vars = flatVariables(stepId);
    const groups = {};
    for (const v of vars) (groups[v.group] = groups[v.group] || []).push([v.path, v.label]);
    const options = Object.entries(groups).map(([group, opts]) => ({ group, options: opts }));
    if (leaf.field && !vars.some((v) => v.path === leaf.field)) options.unshift([leaf.field, leaf.field]);
    const row = h("div.studio-cond-row", { dataset: { errorKey: path, errorPrefix: "1" } });
    const fieldSelect = select(options, leaf.field, { class: "studio-cond-field", "aria-label": `Condition ${number}: field`, onchange: (event) => {
      leaf.field = event.target.value;
      changed();
      redraw();
    } });
    const ops = operators.filter((o) => allowChange || !["changed", "changed_to"].includes(o.op));
    const opSelect = select(ops.map((o) => [o.op, o.label]), leaf.op, { class: "studio-cond-op", "aria-label": `Condition ${number}: operator`, onchange: (event) => {
      leaf.op = event.target.value;
      if (!operatorOf(leaf.op).needs_value) delete leaf.value;
      else if (leaf.value === undefined) leaf.value = "";
      changed();
      redraw();
    } });
    const variable = vars.find((v) => v.path === leaf.field) || {};
    const parts = [fieldSelect, opSelect];
    if (operatorOf(leaf.op).needs_value) {
      let value;
      const choices = variable.choices || [];
      const setValue = (raw) => {
        leaf.value = variable.kind === "number" && raw !== "" && !Number.isNaN(Number(raw)) ? Number(raw) : raw;
        changed();
      };
      if (choices.length) {
        const opts = choices.map((c) => (Array.isArray(c) ? c : [c.value ?? c, c.label ?? c]));
        if (leaf.value !== undefined && leaf.value !== "" && !opts.some(([v]) => String(v) === String(leaf.value))) opts.unshift([leaf.value, leaf.value]);
        value = select([["", "Choose…"], ...opts], leaf.value, { onchange: (event) => setValue(event.target.value) });
      } else if (variable.kind === "bool") {
        value = select([["true", "yes"], ["false", "no"]], String(leaf.value ?? "true"), { onchange: (event) => setValue(event.target.value === "true") });
      } else {
        value = input({ value: leaf.value ?? "", type: variable.kind === "number" ? "number" : variable.kind === "date" ? "date" : "text", oninput: (event) => setValue(event.target.value) });
      }
      value.classList.add("studio-cond-value");
      value.setAttribute("aria-label", `Condition ${number}: value`);
      parts.push(value);
    }
    if (readOnly) parts.forEach((p) => { p.disabled = true; });
    row.append(h("div.studio-cond-controls", {}, ...parts,
      readOnly ? null : h("button.btn.btn-icon.btn-sm.btn-ghost-danger", { type: "button", "aria-label": `Remove condition ${number}`, onclick: () => {
        items.splice(items.indexOf(leaf), 1);
        changed();
        redraw();
      } }, icon("ti-x"))));
    row.append(h("div.invalid-feedback"));
    return row;
  }

  // Steps -----------------------------------------------------------------------------------------
  function openStep(id) {
    const found = findStep(id);
    if (!found) return;
    panelTarget = { kind: "step", id };
    const info = typeInfo(found.step.type);
    showPanel(info.label, `Step ${stepNumber(id)} · ${id}`, typeIcon(found.step.type));
    drawStepPanel(found.step);
    const buttons = [h("button.btn.btn-primary", { type: "button", onclick: closePanel }, "Done")];
    if (!readOnly) {
      buttons.push(h("button.btn.btn-ghost-danger.ms-auto", { type: "button", onclick: () => deleteStep(id) }, icon("ti-trash"), "Delete step"));
    }
    footer(buttons);
  }

  function drawStepPanel(step) {
    const parts = [h("div.alert.alert-danger.studio-panel-errors", { role: "alert", dataset: { panelErrors: "" }, hidden: true })];
    const key = (name) => `steps.${step.id}.${name}`;
    const set = (name, value, redraw = false) => {
      if (value === "" || value === undefined || value === null) delete step[name];
      else step[name] = value;
      changed();
      if (redraw) drawStepPanel(step);
    };
    const hintsLine = typeInfo(step.type).hint || typeInfo(step.type).help;
    if (hintsLine) parts.push(h("p.text-secondary", {}, hintsLine));
    if (step.type === "branch") {
      step.conditions = normaliseGroup(step.conditions);
      parts.push(conditionSection({ title: "Take the “yes” path when", hint: "Otherwise the steps under “no” run.", node: step.conditions, keyPrefix: key("conditions"), stepId: step.id, allowChange: false }));
    } else if (step.type === "delay") {
      parts.push(...delayFields(step, key, set));
    } else if (step.type === "send_email") {
      parts.push(
        field({ label: "To", key: key("to"), control: recipientSelect(step.to || "record_owner", (value) => set("to", value), true), required: true, help: "Emails to a contact respect their consent and any restriction of processing." }),
        field({ label: "Subject", key: key("subject"), control: input({ value: step.subject || "", oninput: (e) => set("subject", e.target.value) }), required: true, picker: true, stepId: step.id }),
        field({ label: "Message", key: key("body"), control: textarea({ rows: "7", value: step.body || "", oninput: (e) => set("body", e.target.value) }), required: true, picker: true, stepId: step.id, help: "Variables are escaped for HTML." }),
      );
    } else if (step.type === "http_request") {
      parts.push(...httpFields(step, key, set));
    } else if (step.type === "ai") {
      parts.push(
        field({ label: "Task", key: key("task"), control: select([["summarise", "Summarise the text"], ["classify", "Classify it into one of some labels"]], step.task || "summarise", { onchange: (e) => set("task", e.target.value, true) }) }),
        field({ label: "Text to read", key: key("text"), control: textarea({ rows: "4", value: step.text || "", oninput: (e) => set("text", e.target.value) }), required: true, picker: true, stepId: step.id }),
      );
      if (step.task === "classify") {
        parts.push(field({ label: "Labels", key: key("labels"), control: input({ value: (step.labels || []).join(", "), oninput: (e) => set("labels", e.target.value.split(",").map((x) => x.trim()).filter(Boolean)) }), required: true, help: "At least two, separated by commas (e.g. complaint, question, praise)." }));
      }
      parts.push(h("div.alert.alert-warning", {}, icon("ti-sparkles me-1"), "Its output is unreviewed AI output: wherever a later step uses it, it is labelled so."));
    } else {
      for (const param of typeInfo(step.type).params || []) parts.push(paramField(step, param, key, set));
    }
    panelBody.replaceChildren(...parts);
    refreshPanelErrors();
  }

  function recipientSelect(current, onChange, withContact) {
    const emailTo = ((typeInfo("send_email").params || []).find((p) => p.name === "to") || {}).choices;
    const options = withContact && emailTo && emailTo.length
      ? emailTo.map((c) => (Array.isArray(c) ? c : [c.value, c.label]))
      : [["record_owner", "The record's owner"], ["manager", "The owner's team manager"], ...(withContact ? [["contact", "The contact"]] : [])];
    const members = (catalog.members || []).map((m) => [withContact ? `member:${m.id}` : String(m.id), m.label]);
    const teams = (catalog.teams || []).map((t) => [`round_robin:${t.id}`, `${t.label} (in turn)`]);
    const all = [...options];
    if (!withContact && teams.length) all.push({ group: "A team, in turn", options: teams });
    if (members.length) all.push({ group: "A member", options: members });
    return select(all, current, { onchange: (event) => onChange(event.target.value) });
  }

  function delayFields(step, key, set) {
    const mode = step.until_field ? "field" : step.time || step.weekday ? "weekday" : "duration";
    const modes = h("fieldset.mb-3", {}, h("legend.form-label", {}, "Wait"));
    for (const [value, label] of [["duration", "For a while"], ["field", "Until a date on the record"], ["weekday", "Until a day and time"]]) {
      const id = nextId("delay");
      modes.append(h("label.form-check", { for: id },
        h("input.form-check-input", { type: "radio", name: `delay-mode-${step.id}`, id, value, checked: mode === value, disabled: readOnly, onchange: () => {
          delete step.minutes;
          delete step.until_field;
          delete step.weekday;
          delete step.time;
          delete step.timezone;
          if (value === "duration") step.minutes = 60;
          if (value === "weekday") Object.assign(step, { weekday: "mon", time: "09:00" });
          if (value === "field") {
            const dates = recordVariables(recordType()).filter((v) => ["date", "datetime"].includes(v.kind));
            if (dates.length) step.until_field = dates[0].path;
          }
          changed();
          drawStepPanel(step);
        } }),
        h("span.form-check-label", {}, label)));
    }
    const parts = [modes];
    if (mode === "duration") {
      const minutes = Number(step.minutes) || 60;
      const unit = minutes % 1440 === 0 ? 1440 : minutes % 60 === 0 ? 60 : 1;
      const amount = input({ type: "number", min: "1", value: String(minutes / unit), class: "studio-amount" });
      const units = select([["1", "minutes"], ["60", "hours"], ["1440", "days"]], String(unit), { "aria-label": "Unit" });
      const update = () => set("minutes", Math.max(1, Math.round(Number(amount.value || 0) * Number(units.value))));
      amount.addEventListener("input", update);
      units.addEventListener("change", update);
      if (readOnly) units.disabled = true;
      const row = field({ label: "How long", key: key("minutes"), control: amount, required: true });
      row.querySelector(".form-control").after(units);
      row.classList.add("studio-duration");
      parts.push(row);
    } else if (mode === "field") {
      const dates = recordVariables(recordType()).filter((v) => ["date", "datetime"].includes(v.kind)).map((v) => [v.path, v.label]);
      if (step.until_field && !dates.some(([p]) => p === step.until_field)) dates.unshift([step.until_field, step.until_field]);
      parts.push(field({ label: "Date field", key: key("until_field"), control: select(dates.length ? dates : [["", "This trigger's record has no date"]], step.until_field || "", { onchange: (e) => set("until_field", e.target.value) }), required: true, help: "The run waits until this date; a date already past continues at once." }));
    } else {
      parts.push(
        field({ label: "Day", key: key("weekday"), control: select([["", "The next day at that time"], ...WEEKDAYS], step.weekday || "", { onchange: (e) => set("weekday", e.target.value) }) }),
        field({ label: "Time", key: key("time"), control: input({ type: "time", value: step.time || "09:00", oninput: (e) => set("time", e.target.value) }), required: true, help: `In ${(body.trigger || {}).timezone || "the schedule's time zone (UTC when there is none)"}.` }),
      );
    }
    return parts;
  }

  function httpFields(step, key, set) {
    const parts = [
      field({ label: "Method", key: key("method"), control: select(["GET", "POST", "PUT", "PATCH", "DELETE"].map((m) => [m, m]), step.method || "POST", { onchange: (e) => set("method", e.target.value) }) }),
      field({ label: "URL", key: key("url"), control: input({ type: "text", inputmode: "url", value: step.url || "", placeholder: "https://", oninput: (e) => set("url", e.target.value) }), required: true, picker: true, stepId: step.id, help: "http(s) only; private and local addresses are refused." }),
    ];
    // Headers: name/value rows.
    const headers = Object.entries(step.headers || {});
    const box = h("fieldset.mb-3.studio-field", { dataset: { errorKey: key("headers") } }, h("legend.form-label", {}, "Headers"));
    const rows = h("div.studio-headers");
    const write = () => {
      const out = {};
      $$(".studio-header-row", rows).forEach((row) => {
        const [name, value] = $$("input", row);
        if (name.value.trim()) out[name.value.trim()] = value.value;
      });
      set("headers", Object.keys(out).length ? out : undefined);
    };
    const addRow = (name = "", value = "") => {
      const n = rows.childElementCount + 1;
      const row = h("div.studio-header-row", {},
        input({ value: name, placeholder: "Name", "aria-label": `Header ${n} name`, oninput: write, disabled: readOnly }),
        input({ value, placeholder: "Value", "aria-label": `Header ${n} value`, oninput: write, disabled: readOnly }),
        readOnly ? null : h("button.btn.btn-icon.btn-ghost-danger", { type: "button", "aria-label": `Remove header ${n}`, onclick: () => { row.remove(); write(); } }, icon("ti-x")),
      );
      rows.append(row);
    };
    headers.forEach(([name, value]) => addRow(name, value));
    box.append(rows);
    if (!readOnly) box.append(h("button.btn.btn-sm", { type: "button", onclick: () => addRow() }, icon("ti-plus"), "Header"));
    box.append(h("div.form-hint", {}, "The signature headers (webhook-id, webhook-timestamp, webhook-signature) are added for you."), h("div.invalid-feedback"));
    parts.push(box);
    if (step.method !== "GET") {
      const text = step.body === undefined ? "" : JSON.stringify(step.body, null, 2);
      const area = textarea({ rows: "8", class: "mono", spellcheck: "false", value: text });
      const local = h("div.invalid-feedback");
      area.addEventListener("input", () => {
        if (!area.value.trim()) {
          area.classList.remove("is-invalid");
          local.textContent = "";
          set("body", undefined);
          return;
        }
        try {
          const parsed = JSON.parse(area.value);
          area.classList.remove("is-invalid");
          local.classList.remove("d-block");
          set("body", parsed);
        } catch (error) {
          area.classList.add("is-invalid");
          local.textContent = "Not JSON yet: the last valid body is kept.";
          local.classList.add("d-block");
        }
      });
      const row = field({ label: "JSON body", key: key("body"), control: area, picker: true, stepId: step.id, help: "Strings may hold variables, e.g. {\"email\": \"{{ contact.email }}\"}; they are escaped for JSON." });
      row.append(local);
      parts.push(row);
    }
    parts.push(h("p.help", {}, "The answer is kept (status, headers, JSON body up to 1 MB) for later steps: {{ steps.", step.id, ".status }}, {{ steps.", step.id, ".body.… }}."));
    return parts;
  }

  function paramField(step, param, key, set) {
    const kind = param.kind || "text";
    const current = step[param.name];
    let control;
    let picker = false;
    if (kind === "member") {
      control = recipientSelect(current || "record_owner", (value) => set(param.name, value), false);
      if (current === undefined && param.required) step[param.name] = "record_owner";
    } else if (kind === "choice") {
      const choices = (param.choices || []).map((c) => (Array.isArray(c) ? c : [c.value ?? c, c.label ?? c]));
      control = select(param.required ? choices : [["", "—"], ...choices], current ?? "", { onchange: (e) => set(param.name, e.target.value) });
      if (current === undefined && param.required && choices.length) step[param.name] = choices[0][0];
    } else if (kind === "number") {
      control = input({ type: "number", min: "0", value: current ?? "", oninput: (e) => set(param.name, e.target.value === "" ? undefined : Number(e.target.value)) });
    } else if (kind === "field") {
      const rt = recordType();
      const fields = ((catalog.fields || {})[rt] || []).map((f) => [f.name, f.label]);
      if (current && !fields.some(([n]) => n === current)) fields.unshift([current, current]);
      control = select([["", "Choose a field…"], ...fields], current ?? "", { onchange: (e) => set(param.name, e.target.value) });
    } else if (kind === "json") {
      control = textarea({ rows: "6", class: "mono", value: current === undefined ? "" : JSON.stringify(current, null, 2), oninput: (e) => {
        try {
          set(param.name, e.target.value.trim() ? JSON.parse(e.target.value) : undefined);
          e.target.classList.remove("is-invalid");
        } catch (error) {
          e.target.classList.add("is-invalid");
        }
      } });
    } else if (kind === "bool") {
      control = select([["true", "Yes"], ["false", "No"]], String(Boolean(current)), { onchange: (e) => set(param.name, e.target.value === "true") });
    } else {
      const long = ["body", "description", "text", "message"].includes(param.name);
      control = long ? textarea({ rows: "5", value: current ?? "" }) : input({ value: current ?? "" });
      control.addEventListener("input", (e) => set(param.name, e.target.value));
      picker = kind === "template";
    }
    return field({ label: param.label || param.name, key: key(param.name), control, required: param.required, help: param.help, picker, stepId: step.id });
  }

  // Adding a step: the panel lists the kinds of step, grouped; choosing one inserts it.
  function openAdd(listKey, index) {
    panelTarget = { kind: "add", list: listKey, index };
    showPanel("Add a step", "What happens next?", "ti-plus");
    const rt = recordType();
    const search = input({ type: "search", id: "step-search", placeholder: "Find a step", class: "mb-3" });
    const groups = h("div.studio-type-groups");
    const draw = () => {
      const q = search.value.trim().toLowerCase();
      groups.replaceChildren();
      const byGroup = {};
      for (const info of Object.values(stepTypes)) {
        if (q && !`${info.label} ${info.type}`.toLowerCase().includes(q)) continue;
        (byGroup[info.group || "Records"] = byGroup[info.group || "Records"] || []).push(info);
      }
      for (const group of GROUPS) {
        if (!byGroup[group]) continue;
        groups.append(h("h3.studio-type-group", {}, group === "Records" ? "CRM records" : group));
        for (const info of byGroup[group]) {
          const unusable = info.record_types && info.record_types.length && !info.record_types.includes(rt);
          groups.append(h("button.btn.studio-type", { type: "button", disabled: Boolean(unusable), dataset: { type: info.type }, onclick: () => addStep(info.type, listKey, index) },
            h("span.studio-step-icon", { "aria-hidden": "true", dataset: { group: info.group || "Records" } }, icon(typeIcon(info.type))),
            h("span", {}, h("span.studio-type-label", {}, info.label),
              h("span.help.d-block", {}, unusable ? `Needs a ${info.record_types.join(" or ")} trigger` : info.hint || info.help || "")),
          ));
        }
      }
      if (!groups.childElementCount) groups.append(h("p.help", {}, "No step matches."));
    };
    search.addEventListener("input", draw);
    panelBody.replaceChildren(h("label.visually-hidden", { for: "step-search" }, "Find a step"), search, groups);
    draw();
    footer([h("button.btn", { type: "button", onclick: closePanel }, "Cancel")]);
  }

  function defaultsFor(type) {
    switch (type) {
      case "branch": return { conditions: { all: [] }, then: [], else: [] };
      case "delay": return { minutes: 60 };
      case "send_email": return { to: "record_owner", subject: "", body: "" };
      case "http_request": return { method: "POST", url: "", headers: {}, body: {} };
      case "ai": return { task: "summarise", text: "" };
      default: {
        const out = {};
        for (const param of typeInfo(type).params || []) {
          if (param.kind === "member" && param.required) out[param.name] = "record_owner";
          else if (param.kind === "choice" && param.required && (param.choices || []).length) {
            const first = param.choices[0];
            out[param.name] = Array.isArray(first) ? first[0] : first.value ?? first;
          }
        }
        return out;
      }
    }
  }

  function addStep(type, listKey, index) {
    const list = listAt(listKey);
    if (!list) return;
    const step = { id: newStepId(), type, ...defaultsFor(type) };
    list.splice(index, 0, step);
    changed();
    panelReturn = `step:${step.id}`;
    openStep(step.id);
    const first = panelBody.querySelector("input:not([type=hidden]), select, textarea");
    if (first) first.focus();
  }

  // --- settings (name, description) -----------------------------------------------------------
  const settings = $("[data-settings]");
  function renderSettings() {
    const name = input({ id: "wf-name", value: body.name || "", maxlength: "120", oninput: (event) => {
      body.name = event.target.value;
      changed({ redraw: false });
    } });
    const description = textarea({ id: "wf-description", rows: "2", maxlength: "500", value: body.description || "", oninput: (event) => {
      body.description = event.target.value;
      changed({ redraw: false });
    } });
    settings.replaceChildren(
      field({ label: "Name", key: "name", control: name, required: true }),
      field({ label: "Description", key: "description", control: description, help: "What it is for, for whoever reads it next." }),
    );
  }
  function renderSettingsName() {
    $$("[data-workflow-name]").forEach((node) => { node.textContent = body.name || "Untitled workflow"; });
    const row = settings && $("[data-error-key='name']", settings);
    if (row) {
      const messages = errors.name || [];
      const control = $("input", row);
      control.classList.toggle("is-invalid", messages.length > 0);
      $(".invalid-feedback", row).textContent = messages.join(" ");
    }
  }

  // --- save, enable -------------------------------------------------------------------------
  async function save() {
    if (!saveButton) return;
    saveButton.disabled = true;
    const label = $("[data-save-label]", saveButton);
    label.textContent = "Saving…";
    const creating = !config.saveUrl;
    const { ok, status, data } = creating ? await api("POST", config.createUrl, body) : await api("PATCH", config.saveUrl, body);
    label.textContent = "Save";
    if (ok) {
      savedText = JSON.stringify(body);
      if (creating) {
        window.location.href = data.url;
        return;
      }
      errors = {};
      showErrors();
      config.version = data.version || (config.version || 0) + 1;
      $$(".subnav .badge").forEach((badge) => { badge.textContent = String(config.version); });
      $$("[data-version-count]").forEach((node) => { node.textContent = `${config.version} version${config.version === 1 ? "" : "s"}`; });
      toast(`Version ${config.version} published. Runs under way finish on the version they started with.`);
      saveButton.disabled = true;
      return;
    }
    if (status === 422) {
      errors = data.errors || { __all__: [data.detail || "Not valid"] };
      showErrors();
      toast("Not saved: fix the problems marked on the steps.", "error");
    } else toast(data.detail || `Not saved (HTTP ${status}).`, "error");
    saveButton.disabled = false;
  }

  async function setEnabled(checkbox) {
    const wanted = checkbox.checked;
    if (wanted && dirty()) {
      if (!window.confirm("Save your changes first? The workflow runs the saved version.")) {
        checkbox.checked = false;
        return;
      }
      await save();
      if (dirty()) {
        checkbox.checked = false;
        return;
      }
    }
    checkbox.disabled = true;
    const { ok, status, data } = await api("POST", wanted ? config.enableUrl : config.disableUrl);
    checkbox.disabled = false;
    if (!ok) {
      checkbox.checked = !wanted;
      toast(data.detail || `Could not ${wanted ? "enable" : "disable"} it (HTTP ${status}).`, "error");
      return;
    }
    body.enabled = wanted;
    savedText = JSON.stringify({ ...JSON.parse(savedText), enabled: wanted });
    $$(".page-title .badge").forEach((badge) => {
      if (badge.dataset.testid === "paused") return;
      badge.className = wanted ? "badge bg-green-lt" : "badge bg-secondary-lt";
      badge.textContent = wanted ? "Enabled" : "Off";
    });
    toast(wanted ? "Enabled: runs start when the trigger fires." : "Disabled: no new runs start.");
  }

  // --- test run -----------------------------------------------------------------------------------
  const testPanel = $("#test-panel");
  const testBody = $("[data-test-body]");
  let testChoice = { mode: "record", record: null };

  function drawTest() {
    const rt = recordType();
    const rtLabel = (((catalog.record_types || {})[rt] || {}).label || "record").toLowerCase();
    const canPick = Boolean(rt) && rt !== "member";
    if (!canPick) testChoice.mode = "sample";
    const parts = [];
    if (canPick) {
      const modes = h("fieldset.mb-3", {}, h("legend.form-label", {}, "Test it on"));
      for (const [value, label] of [["record", `A ${rtLabel} you choose`], ["sample", "Sample data"]]) {
        const id = `test-mode-${value}`;
        modes.append(h("label.form-check.form-check-inline", { for: id },
          h("input.form-check-input", { type: "radio", name: "test-mode", id, value, checked: testChoice.mode === value, onchange: () => { testChoice.mode = value; drawTest(); } }),
          h("span.form-check-label", {}, label)));
      }
      parts.push(modes);
    }
    if (testChoice.mode === "record" && canPick) {
      const results = h("div.list-group.studio-record-results", { role: "listbox", "aria-label": `Matching ${rtLabel}s` });
      const search = input({ type: "search", id: "test-record-search", placeholder: `Name or email of a ${rtLabel}` });
      let searchTimer = null;
      const find = async () => {
        const url = `${config.recordsUrl}?type=${encodeURIComponent(rt)}&q=${encodeURIComponent(search.value.trim())}`;
        const { ok, data } = await api("GET", url);
        results.replaceChildren();
        for (const item of ok ? data.items || [] : []) {
          results.append(h("button.list-group-item.list-group-item-action", { type: "button", role: "option", "aria-selected": testChoice.record && testChoice.record.id === item.id ? "true" : "false", onclick: () => {
            testChoice.record = item;
            drawTest();
            const run = $("[data-run-test]", testBody);
            if (run) run.focus();
          } }, item.label));
        }
        if (!results.childElementCount) results.append(h("div.list-group-item.help", {}, ok ? "Nothing matches." : "The search failed."));
      };
      search.addEventListener("input", () => {
        clearTimeout(searchTimer);
        searchTimer = setTimeout(find, 250);
      });
      parts.push(h("div.mb-2", {}, h("label.form-label", { for: "test-record-search" }, `Find a ${rtLabel}`), search), results);
      if (testChoice.record) {
        parts.push(h("p.studio-chosen", {}, icon("ti-user"), " Chosen: ", h("strong", { dataset: { chosenRecord: "" } }, testChoice.record.label)));
      }
      find();
    } else {
      const example = (body.trigger || {}).type === "webhook" ? '{"email": "ada@example.com", "name": "Ada"}' : "{}";
      const area = textarea({ id: "test-sample", rows: "6", class: "mono", spellcheck: "false", value: testChoice.sample || example, oninput: (event) => { testChoice.sample = event.target.value; } });
      parts.push(h("div.mb-3", {},
        h("label.form-label", { for: "test-sample" }, (body.trigger || {}).type === "webhook" ? "Request body (JSON)" : "Sample values (JSON)"),
        area,
        h("div.form-hint", {}, rt ? `Leave {} to use built-in sample values for a ${rtLabel}; any value you give replaces the sample's (e.g. {"tags": ["vip"]}).` : "Values the trigger would give the run."),
      ));
    }
    parts.push(h("button.btn.btn-primary.w-100.mb-3", { type: "button", dataset: { runTest: "" }, onclick: runTest, disabled: testChoice.mode === "record" && canPick && !testChoice.record }, icon("ti-player-play"), "Run the test"));
    parts.push(h("div", { dataset: { testResult: "" }, "aria-live": "polite" }));
    testBody.replaceChildren(...parts);
  }

  async function runTest() {
    const out = $("[data-test-result]", testBody);
    const payload = { definition: body };
    if (config.workflowId) payload.workflow_id = config.workflowId;
    if (testChoice.mode === "record" && testChoice.record) payload.record_id = testChoice.record.id;
    else {
      try {
        payload.sample = JSON.parse(testChoice.sample || $("#test-sample").value || "{}");
      } catch (error) {
        out.replaceChildren(h("div.alert.alert-danger", { role: "alert" }, "The sample is not JSON."));
        return;
      }
    }
    out.replaceChildren(h("p.help", {}, icon("ti-loader-2"), " Running…"));
    const { ok, status, data } = await api("POST", config.testUrl, payload);
    if (!ok) {
      const messages = Object.values(data.errors || {}).flat();
      out.replaceChildren(h("div.alert.alert-danger", { role: "alert" }, h("strong", {}, data.detail || `The test failed (HTTP ${status})`), messages.length ? h("ul.mb-0", {}, messages.map((m) => h("li", {}, stripPrefix(m)))) : null));
      if (status === 422 && data.errors) {
        errors = data.errors;
        showErrors();
      }
      return;
    }
    const steps = data.steps || [];
    const colours = { succeeded: "green", would_run: "green", ok: "green", failed: "red", error: "red", skipped: "secondary", waiting: "purple" };
    out.replaceChildren(
      h("h3.h4", {}, "What would happen"),
      data.trigger_matches === false ? h("div.alert.alert-warning", { role: "status", dataset: { triggerMismatch: "" } }, "The trigger's conditions do not hold for this record: in real life no run would start. The steps below show what would happen if it did.") : null,
      steps.length ? h("ol.studio-test-steps", { dataset: { testSteps: "" } }, steps.map((s) => h("li.card.card-sm", { dataset: { status: s.status || "" } },
        h("div.card-body", {},
          h("div.d-flex.align-items-start.gap-2", {},
            h("span.studio-step-icon", { "aria-hidden": "true" }, icon(typeIcon(s.type))),
            h("div.flex-fill", {},
              h("div.fw-medium", {}, s.label || typeInfo(s.type).label, " ", h("span.studio-node-id", {}, s.step_id)),
              h("div.help", {}, s.summary || ""),
            ),
            h(`span.badge.bg-${colours[s.status] || "secondary"}-lt`, {}, String(s.status || "").replace(/_/g, " ")),
          ),
          s.error ? h("div.alert.alert-danger.mt-2.mb-0", { role: "alert" }, s.error) : null,
          (s.input && Object.keys(s.input).length) ? h("details.studio-json.mt-2", {}, h("summary", {}, "Input"), h("pre", { tabindex: "0" }, JSON.stringify(s.input, null, 2))) : null,
          (s.output && Object.keys(s.output).length) ? h("details.studio-json.mt-1", {}, h("summary", {}, "Output"), h("pre", { tabindex: "0" }, JSON.stringify(s.output, null, 2))) : null,
        ),
      ))) : h("p.help", {}, "No step would run (the trigger's conditions do not hold, or there is no step)."),
      h("p.help.mt-2", {}, icon("ti-shield-check"), " Nothing was changed."),
    );
  }

  // --- wiring -------------------------------------------------------------------------------------
  renderSettings();
  renderFlow();
  setValidity();
  if (!readOnly) validate();
  if (saveButton) {
    saveButton.addEventListener("click", save);
    saveButton.disabled = Boolean(config.saveUrl) && !dirty();
  }
  const enable = $("[data-enable]");
  if (enable) enable.addEventListener("change", () => setEnabled(enable));
  const openTest = $("[data-open-test]");
  if (openTest && testPanel) {
    openTest.addEventListener("click", () => {
      drawTest();
      bs().Offcanvas.getOrCreateInstance(testPanel).show();
    });
    testPanel.addEventListener("hidden.bs.offcanvas", () => openTest.focus());
  }
  window.addEventListener("beforeunload", (event) => {
    if (!readOnly && dirty()) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
  document.addEventListener("keydown", (event) => {
    if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "s" && saveButton && !readOnly) {
      event.preventDefault();
      if (!saveButton.disabled) save();
    }
  });
  if (window.location.hash === "#trigger") openTrigger();
})();
