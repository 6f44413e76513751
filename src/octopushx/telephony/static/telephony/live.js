// The caller card: live call events for the member's open page (no inline scripts: CSP).
// An EventSource on the member's stream names a call in each event; the card itself is fetched from the
// server and swapped into #caller-cards by its data-call-id. Each stream ends after ~25 s and the browser
// reconnects; its first event ("sync") lists the member's live calls, so an event missed in between is
// caught up. When the server has no stream to spare (204) the page polls the same list instead.
(() => {
  const PLACEHOLDER = "00000000-0000-0000-0000-000000000000";
  const LIVE = ["ringing", "on_call"];
  let slot = null;
  let pollTimer = null;
  const chains = new Map(); // one card load at a time per call, in the order the events came

  const cardFor = (id) => slot.querySelector(`[data-call-id="${CSS.escape(id)}"]`);

  async function load(id) {
    const response = await fetch(slot.dataset.liveCard.replace(PLACEHOLDER, id), {
      credentials: "same-origin",
      headers: { Accept: "text/html", "X-Caller-Card": "1" },
    });
    const current = cardFor(id);
    if (response.status === 404) {
      current?.remove();
      return;
    }
    if (!response.ok) return;
    const template = document.createElement("template");
    template.innerHTML = (await response.text()).trim();
    const card = template.content.querySelector("[data-call-id]");
    if (!card) return;
    const hadFocus = current?.contains(document.activeElement);
    if (current) current.replaceWith(card);
    else slot.prepend(card);
    if (window.htmx) window.htmx.process(card);
    if (hadFocus) card.querySelector("a, button")?.focus();
  }

  function refresh(id) {
    const next = (chains.get(id) || Promise.resolve()).then(() => load(id)).catch(() => {});
    chains.set(id, next);
  }

  // Bring the cards in line with the server's list of live calls (after a reconnect, or a poll).
  function sync(calls) {
    const listed = new Set();
    calls.forEach(({ id, state }) => {
      listed.add(id);
      const card = cardFor(id);
      if (!card || card.dataset.cardState !== state) refresh(id);
    });
    slot.querySelectorAll("[data-call-id]").forEach((card) => {
      if (!listed.has(card.dataset.callId) && LIVE.includes(card.dataset.cardState)) refresh(card.dataset.callId);
    });
  }

  function poll() {
    fetch(slot.dataset.liveState, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then((response) => (response.ok ? response.json() : null))
      .then((data) => data && sync(data.calls))
      .catch(() => {});
  }

  // No stream to spare (or none at all): poll for a minute, then try the stream again.
  function fallBack(seconds) {
    if (pollTimer) return;
    poll();
    pollTimer = setInterval(poll, seconds * 1000);
    setTimeout(() => {
      clearInterval(pollTimer);
      pollTimer = null;
      connect();
    }, 60000);
  }

  function connect() {
    if (!window.EventSource) {
      fallBack(4);
      return;
    }
    const source = new EventSource(slot.dataset.liveStream);
    source.addEventListener("sync", (event) => sync(JSON.parse(event.data).calls));
    source.addEventListener("message", (event) => {
      const message = JSON.parse(event.data);
      if (message.phone_call_id) refresh(message.phone_call_id);
    });
    source.addEventListener("error", () => {
      // CONNECTING: the stream ended as planned and the browser reconnects. CLOSED: refused (204).
      if (source.readyState === EventSource.CLOSED) fallBack(4);
    });
    slot.dataset.liveConnected = "true";
  }

  // The presence switch closes on Escape (focus back on it) and on a click elsewhere, like the user menu.
  document.addEventListener("keydown", (event) => {
    const menu = document.querySelector("details.presence-menu[open]");
    if (event.key !== "Escape" || !menu) return;
    menu.open = false;
    menu.querySelector("summary").focus();
  });
  document.addEventListener("click", (event) => {
    const menu = document.querySelector("details.presence-menu[open]");
    if (menu && !menu.contains(event.target)) menu.open = false;
  });

  document.addEventListener("DOMContentLoaded", () => {
    slot = document.getElementById("caller-cards");
    if (!slot) return;
    slot.addEventListener("click", (event) => {
      const close = event.target.closest("[data-live-close]");
      if (!close) return;
      close.closest("[data-call-id]").remove();
      document.getElementById("main")?.focus();
    });
    connect();
  });
})();
