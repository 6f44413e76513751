// Reports pages: what the saved list, the builder and the dashboard editor share. They change data
// through the JSON API (/api/v1/reports, /api/v1/dashboards) with the browser session and its CSRF token.
(() => {
  const csrfToken = () => {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (error) {
      return "";
    }
  };
  const api = async (method, url, payload) => {
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
  };
  // One readable sentence out of the API's error shape {"detail", "errors": {field: [messages]}}.
  const problem = (answer, fallback) => {
    const errors = Object.entries(answer.data.errors || {}).map(([field, messages]) => `${field}: ${[].concat(messages).join(" ")}`);
    return errors.length ? errors.join("; ") : answer.data.detail || fallback;
  };

  // "Who can see it": Only me / Everyone / these roles.
  const sharing = (root) => {
    const chosen = root.querySelector("[data-visibility]:checked");
    if (!chosen) return {};
    if (chosen.value === "private") return { shared: false, roles: [] };
    if (chosen.value === "everyone") return { shared: true, roles: [] };
    return { shared: true, roles: [...root.querySelectorAll("[data-role]:checked")].map((box) => box.value) };
  };
  const showSharing = (root, shared, roles) => {
    const value = !shared ? "private" : roles && roles.length ? "roles" : "everyone";
    root.querySelectorAll("[data-visibility]").forEach((radio) => {
      radio.checked = radio.value === value;
    });
    root.querySelectorAll("[data-role]").forEach((box) => {
      box.checked = (roles || []).includes(box.value);
    });
    syncRoles(root);
  };
  const syncRoles = (root) => {
    const chosen = root.querySelector("[data-visibility]:checked");
    const list = root.querySelector("[data-roles]");
    if (list) list.hidden = !chosen || chosen.value !== "roles";
  };
  document.addEventListener("change", (event) => {
    if (event.target.matches("[data-visibility]")) syncRoles(event.target.closest("form, fieldset") || document);
  });

  document.addEventListener("click", (event) => {
    const opener = event.target.closest("[data-open-dialog]");
    if (!opener) return;
    const dialog = document.getElementById(opener.dataset.openDialog);
    if (dialog && dialog.showModal) {
      dialog.showModal();
      dialog.querySelector("input:not([type=radio]):not([type=checkbox]), select")?.focus();
    }
  });

  // The saved list's "New dashboard".
  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("[data-new-dashboard]").forEach((form) => {
      form.addEventListener("submit", async (event) => {
        if (event.submitter && event.submitter.value !== "create") return;
        event.preventDefault();
        const error = form.querySelector("[data-error]");
        const answer = await api("POST", "/api/v1/dashboards", { name: form.elements.name.value, ...sharing(form) });
        if (!answer.ok) {
          error.textContent = problem(answer, "The dashboard was not created.");
          return;
        }
        window.location.assign(`/reports/dashboards/${answer.data.id}/`);
      });
    });
  });

  window.reportsUi = { api, problem, sharing, showSharing, csrfToken };
})();
