// Run detail: open or close every step's input and output at once.
document.addEventListener("DOMContentLoaded", () => {
  const all = () => document.querySelectorAll(".studio-step-run details");
  document.querySelector("[data-expand-all]")?.addEventListener("click", () => all().forEach((d) => { d.open = true; }));
  document.querySelector("[data-collapse-all]")?.addEventListener("click", () => all().forEach((d) => { d.open = false; }));
});
