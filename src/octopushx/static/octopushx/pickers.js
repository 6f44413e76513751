// Type-ahead pickers: every select[data-picker] becomes a Tom Select that searches its URL as the
// user types (debounced) and shows each row with a second line telling namesakes apart.
// The server renders only the chosen options; it validates whatever is submitted.
(() => {
  const twoLines = (data, escape) =>
    `<div class="picker-option"><div class="picker-text">${escape(data.text)}</div>` +
    (data.detail ? `<div class="picker-detail">${escape(data.detail)}</div>` : "") +
    "</div>";

  const setUp = (select) => {
    if (select.tomselect || !window.TomSelect) return;
    const url = select.dataset.picker;
    // Tom Select ties the label to its typing box; the original (now hidden) select keeps the name.
    const labelText = select.labels.length ? select.labels[0].textContent.trim() : "";
    const multiple = select.multiple;
    const plugins = multiple ? ["remove_button"] : [];
    if (!multiple && !select.required) plugins.push("clear_button");
    const picker = new window.TomSelect(select, {
      valueField: "value",
      labelField: "text",
      searchField: [],
      plugins,
      maxOptions: 50,
      maxItems: multiple ? null : 1,
      allowEmptyOption: false,
      create: false,
      preload: "focus",
      loadThrottle: 250,
      placeholder: select.dataset.placeholder || "Type to search…",
      hidePlaceholder: true,
      // The server has already matched (accents, emails, phone numbers): keep its rows and order.
      score: () => () => 1,
      shouldLoad: () => true,
      load(query, callback) {
        const address = `${url}${url.includes("?") ? "&" : "?"}q=${encodeURIComponent(query)}`;
        fetch(address, { headers: { Accept: "application/json" }, credentials: "same-origin" })
          .then((response) => (response.ok ? response.json() : { results: [] }))
          .then((json) => {
            this.clearOptions();
            callback(json.results || []);
          })
          .catch(() => callback());
      },
      render: {
        option: twoLines,
        item: (data, escape) =>
          `<div title="${escape(data.detail || "")}">${escape(data.text)}` +
          (multiple && data.detail ? ` <span class="picker-detail">(${escape(data.detail)})</span>` : "") +
          "</div>",
        no_results: () => '<div class="no-results">No match among the records you can see</div>',
        loading: () => '<div class="loading">Searching…</div>',
      },
    });
    if (labelText) select.setAttribute("aria-label", labelText);
    select.style.display = "none";
    // The label stays tied to the typing box, and the error (aria-describedby) with it.
    const described = select.getAttribute("aria-describedby");
    if (described) picker.control_input.setAttribute("aria-describedby", described);
    if (select.getAttribute("aria-invalid") === "true") picker.wrapper.classList.add("is-invalid");
  };

  const setUpWithin = (root) => {
    if (!root || !root.querySelectorAll) return;
    if (root.matches && root.matches("select[data-picker]")) setUp(root);
    root.querySelectorAll("select[data-picker]").forEach(setUp);
  };

  window.OctopushPickers = { setUp, setUpWithin };
  setUpWithin(document);
  // Forms swapped in by htmx (inline edit on a record's page) get their pickers too.
  document.addEventListener("htmx:load", (event) => setUpWithin(event.target));
})();
