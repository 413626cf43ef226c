// Keyboard shortcuts for the counter console: each key presses the button marked data-key.
document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  const target = event.target;
  if (target instanceof HTMLInputElement || target instanceof HTMLSelectElement || target instanceof HTMLTextAreaElement) return;
  const button = document.querySelector(`button[data-key="${event.key.toLowerCase()}"]`);
  if (button && !button.disabled) {
    event.preventDefault();
    button.click();
  }
});

// Live updates through the site's websocket: waiting counts at once from the pushed status;
// when this counter's own state or ticket changed elsewhere (another tab, the floor manager),
// the console re-reads it once and redraws the ticket card and which buttons are enabled.
(function () {
  const L = window.MadoguchiLive;
  const M = window.MadoguchiMessages;
  const head = document.querySelector("[data-console]");
  if (!L || !head) return;
  const T = L.text("console-text");
  const current = document.querySelector("[data-current]");
  let seq = -1;

  function el(tag, className, content) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (content !== undefined) node.textContent = String(content);
    return node;
  }

  function setButtons(state, ticket) {
    const has = Boolean(ticket);
    const called = has && ticket.status === "called";
    const disabled = {
      "call-next": has || state !== "open", recall: !called, start: !called, "no-show": !called,
      complete: !has, transfer: !has, open: state === "open", pause: state !== "open", close: state === "closed",
    };
    document.querySelectorAll("button[name=action]").forEach((button) => {
      if (button.value in disabled) button.disabled = disabled[button.value];
    });
  }

  function renderCounter(view) {
    const badge = document.querySelector("[data-state-badge]");
    badge.className = `state state-${view.state}`;
    badge.textContent = T[`state.${view.state}`];
    const ticket = view.ticket;
    if (!ticket) {
      current.replaceChildren(el("p", "muted", T.no_ticket));
    } else {
      const dl = document.createElement("dl");
      for (const [label, value] of [[T.service, ticket.service_name], [T.ticket_status, T[`status.${ticket.status}`]], [T.recalls, ticket.recalls]]) {
        dl.append(el("dt", "", label), el("dd", "", value));
      }
      current.replaceChildren(el("p", "big-number", ticket.display_number), dl);
    }
    setButtons(view.state, ticket);
    head.dataset.state = view.state;
    head.dataset.serving = ticket ? ticket.display_number : "";
    head.dataset.servingStatus = ticket ? ticket.status : "";
  }

  function render(status) {
    for (const svc of status.services) {
      const row = document.querySelector(`tr[data-service="${CSS.escape(svc.id)}"]`);
      if (!row) continue;
      row.querySelector("[data-waiting]").textContent = M.format(T.people, { n: svc.waiting });
      row.querySelector("[data-wait]").textContent = M.waitText(T.wait, svc.est_wait_min, svc.est_wait_max);
    }
    const mine = status.counters.find((c) => c.id === head.dataset.counter);
    if (!mine) return;
    const changed = mine.state !== head.dataset.state || (mine.serving || "") !== head.dataset.serving
      || (mine.serving_status || "") !== head.dataset.servingStatus;
    if (changed) {
      fetch(`/api/v1/counters/${encodeURIComponent(head.dataset.counter)}`, { credentials: "same-origin" })
        .then((response) => (response.ok ? response.json() : null))
        .then((view) => view && renderCounter(view));
    }
  }

  L.connect(`/ws/sites/${encodeURIComponent(head.dataset.site)}`, {
    onState: L.showOffline,
    onMessage(message) {
      if (message.status && message.status.seq >= seq) {
        seq = message.status.seq;
        render(message.status);
      }
    },
  });
})();
