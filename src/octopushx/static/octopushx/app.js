// Small behaviours for server-rendered pages. No inline scripts anywhere (CSP).

// A wide table scrolls inside its own box, never the page: a table not already in a
// .table-responsive gets one, and the box takes keyboard focus so it can be scrolled without a
// mouse (axe scrollable-region-focusable).
function fitTables(root) {
  root.querySelectorAll("table.table").forEach((table) => {
    if (table.parentElement.classList.contains("table-responsive")) return;
    const box = document.createElement("div");
    box.className = "table-responsive";
    table.replaceWith(box);
    box.append(table);
  });
  root.querySelectorAll(".table-responsive:not([tabindex])").forEach((box) => {
    box.tabIndex = 0;
    const caption = box.querySelector("caption") || box.closest("section, .card")?.querySelector("h2, h3, .card-title");
    box.setAttribute("role", "region");
    box.setAttribute("aria-label", caption ? caption.textContent.trim() : "Table");
  });
}

document.addEventListener("DOMContentLoaded", () => {
  fitTables(document);
  document.body.addEventListener("htmx:afterSettle", (event) => fitTables(event.target));
  document.querySelectorAll("[data-autosubmit]").forEach((el) => {
    el.addEventListener("change", () => el.form.requestSubmit());
  });
  const toggles = [...document.querySelectorAll("[data-toggle]")];
  const setOpen = (button, open) => {
    document.getElementById(button.dataset.toggle).classList.toggle("show", open);
    button.setAttribute("aria-expanded", String(open));
  };
  toggles.forEach((button) => {
    button.addEventListener("click", () => setOpen(button, button.getAttribute("aria-expanded") !== "true"));
  });
  const menus = [...document.querySelectorAll("details.user-menu")];
  // Escape closes whatever is open (narrow-screen navigation, user menu) and puts focus back.
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    toggles.filter((b) => b.getAttribute("aria-expanded") === "true").forEach((button) => {
      setOpen(button, false);
      button.focus();
    });
    menus.filter((menu) => menu.open).forEach((menu) => {
      menu.open = false;
      menu.querySelector("summary").focus();
    });
  });
  document.addEventListener("click", (event) => {
    menus.filter((menu) => menu.open && !menu.contains(event.target)).forEach((menu) => { menu.open = false; });
  });
  // On a phone the settings tabs scroll sideways: bring the current one into view.
  const currentTab = document.querySelector(".subnav [aria-current='page']");
  if (currentTab) currentTab.scrollIntoView({ block: "nearest", inline: "nearest" });
  // After a failed submit, start on the first field that needs fixing; its error is announced
  // with it through aria-describedby.
  const invalid = document.querySelector("[aria-invalid='true']");
  if (invalid && !invalid.contains(document.activeElement)) invalid.focus();
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });
  document.querySelectorAll("[data-copy]").forEach((button) => {
    button.addEventListener("click", async () => {
      const source = document.getElementById(button.dataset.copy);
      await navigator.clipboard.writeText(source.value || source.textContent);
      button.textContent = "Copied";
    });
  });
  const accent = document.body.dataset.accent;
  if (accent && /^#[0-9a-fA-F]{6}$/.test(accent)) {
    // The organisation's brand colour drives the design system's primary colour.
    const rgb = [1, 3, 5].map((i) => parseInt(accent.slice(i, i + 2), 16)).join(", ");
    for (const [name, value] of [["--accent", accent], ["--tblr-primary", accent], ["--tblr-primary-rgb", rgb]]) {
      document.documentElement.style.setProperty(name, value);
    }
  }
  // The global search (top bar): arrow keys walk its results, Enter opens one, Escape or a click
  // elsewhere closes them.
  const search = document.querySelector("[data-global-search]");
  const results = document.getElementById("crm-search-results");
  if (search && results) {
    const form = search.closest("form");
    form.addEventListener("keydown", (event) => {
      const hits = [...results.querySelectorAll("a")];
      const at = hits.indexOf(document.activeElement);
      if ((event.key === "ArrowDown" || event.key === "ArrowUp") && hits.length) {
        event.preventDefault();
        const next = event.key === "ArrowDown" ? Math.min(at + 1, hits.length - 1) : at - 1;
        (next < 0 ? search : hits[next]).focus();
      } else if (event.key === "Escape" && results.childElementCount) {
        event.stopPropagation();
        results.replaceChildren();
        search.focus();
      }
    });
    document.addEventListener("click", (event) => {
      if (!form.contains(event.target)) results.replaceChildren();
    });
  }
});

// "/" focuses the global search from anywhere but a text field.
document.addEventListener("keydown", (event) => {
  if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.target.closest("input, textarea, select, [contenteditable]")) return;
  const box = document.querySelector("[data-global-search]");
  if (box) {
    event.preventDefault();
    box.focus();
    box.select();
  }
});

// --- Pickers -------------------------------------------------------------------------------------
// A page with a select[data-picker] (core/widgets.py) loads Tom Select and pickers.js, from the same
// static folder as this script; pages without one load nothing more. htmx-swapped forms count too.
(() => {
  const self = document.querySelector("script[src$='octopushx/app.js']");
  if (!self) return;
  const base = self.src.replace(/octopushx\/app\.js$/, "");
  let loading = null;
  const load = () => {
    if (loading) return loading;
    const css = document.createElement("link");
    css.rel = "stylesheet";
    css.href = `${base}vendor/tom-select/css/tom-select.bootstrap5.min.css`;
    const appCss = document.querySelector("link[href$='octopushx/app.css']");
    if (appCss) appCss.before(css);
    else document.head.append(css);
    const script = (src) =>
      new Promise((resolve, reject) => {
        const el = document.createElement("script");
        el.src = src;
        el.onload = resolve;
        el.onerror = reject;
        document.head.append(el);
      });
    loading = script(`${base}vendor/tom-select/js/tom-select.complete.min.js`).then(() =>
      script(`${base}octopushx/pickers.js`),
    );
    return loading;
  };
  const check = (root) => {
    if (root && root.querySelector && root.querySelector("select[data-picker]")) load();
  };
  document.addEventListener("DOMContentLoaded", () => check(document));
  document.addEventListener("htmx:load", (event) => check(event.target));
})();
