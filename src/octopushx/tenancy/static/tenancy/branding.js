// The Branding page's live preview: the name, colour and chosen logo show before saving.
document.addEventListener("DOMContentLoaded", () => {
  const preview = document.querySelector("[data-brand-preview]");
  if (!preview) return;
  const hex = /^#[0-9a-fA-F]{6}$/;
  const nameInput = document.querySelector("[data-preview-name]");
  const colorInput = document.querySelector("[data-preview-color]");
  const picker = document.querySelector("[data-preview-picker]");
  const logoInput = document.querySelector("[data-preview-logo]");
  const nameText = preview.querySelector("[data-preview-name-text]");
  const mark = preview.querySelector("[data-preview-mark]");
  const logo = preview.querySelector("[data-preview-logo-img]");

  const paint = (color) => {
    if (hex.test(color)) preview.style.setProperty("--brand-preview", color);
  };
  paint(preview.dataset.color || "");
  nameInput?.addEventListener("input", () => {
    nameText.textContent = nameInput.value;
    mark.textContent = nameInput.value.slice(0, 1);
  });
  colorInput?.addEventListener("input", () => {
    paint(colorInput.value.trim());
    if (picker && hex.test(colorInput.value.trim())) picker.value = colorInput.value.trim();
  });
  picker?.addEventListener("input", () => {
    colorInput.value = picker.value;
    paint(picker.value);
  });
  logoInput?.addEventListener("change", () => {
    const file = logoInput.files && logoInput.files[0];
    if (!file || !file.type.startsWith("image/")) return;
    // A data: address, which the page's content security policy allows for images (blob: it does not).
    const reader = new FileReader();
    reader.addEventListener("load", () => {
      logo.src = reader.result;
      logo.classList.remove("d-none");
      mark.classList.add("d-none");
    });
    reader.readAsDataURL(file);
  });
});
