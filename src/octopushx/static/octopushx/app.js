// Small behaviours for server-rendered pages. No inline scripts anywhere (CSP).
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-autosubmit]").forEach((el) => {
    el.addEventListener("change", () => el.form.requestSubmit());
  });
  const toggles = [...document.querySelectorAll("[data-toggle]")];
  const setOpen = (button, open) => {
    document.getElementById(button.dataset.toggle).classList.toggle("open", open);
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
  if (accent && /^#[0-9a-fA-F]{6}$/.test(accent)) document.body.style.setProperty("--accent", accent);
});
