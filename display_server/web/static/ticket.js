// The phone ticket page: follows the ticket's websocket; when the turn is near and when it is
// called the page changes colour and wording, vibrates, chimes and (if allowed) notifies.
"use strict";
(function () {
  const L = window.MadoguchiLive;
  const M = window.MadoguchiMessages;
  const T = L.text();
  const lang = document.documentElement.lang;
  const card = document.querySelector("[data-ticket]");
  const alertBox = card.querySelector("[data-alert]");
  const notifyButton = document.querySelector("[data-notify]");
  const cancelLink = document.querySelector("[data-cancel]");
  const chime = document.querySelector("[data-chime]");
  const FINAL = new Set(["done", "cancelled", "no_show", "expired"]);
  let shown = { status: card.dataset.status, near: card.dataset.near === "yes", recalls: null };

  function setText(selector, value) {
    card.querySelector(selector).textContent = value;
  }

  function alertText(ticket) {
    if (ticket.status === "called") return M.format(T["ticket.called"], { counter: ticket.counter_label });
    if (FINAL.has(ticket.status)) return T["ticket.finished"];
    if (ticket.near && ticket.status === "waiting") return T["ticket.near"];
    return "";
  }

  function alertVisitor(ticket) {
    const message = alertText(ticket);
    if (navigator.vibrate) navigator.vibrate(ticket.status === "called" ? [400, 150, 400, 150, 400] : [300, 100, 300]);
    chime.play().catch(() => {});
    if ("Notification" in window && Notification.permission === "granted" && document.visibilityState !== "visible") {
      new Notification(T["ticket.notify_title"], { body: `${ticket.display_number}: ${message}`, tag: "madoguchi" });
    }
  }

  function render(ticket) {
    const routeDone = card.dataset.route === "yes" && ticket.status === "done" && shown.status !== "done";
    if (ticket.service !== card.dataset.service || routeDone) {
      // On to another service (a transfer, the route's next step) or the route's last step
      // done: the names and steps in this page's language come from the server.
      location.reload();
      return;
    }
    const waiting = ticket.status === "waiting";
    card.className = `ticket status-${ticket.status}${ticket.near ? " near" : ""}`;
    setText("[data-status-text]", T[`ticket.status.${ticket.status}`]);
    setText("[data-ahead]", waiting ? M.format(T["ticket.ahead"], { n: ticket.ahead }) : "—");
    setText("[data-estimate]", waiting ? M.waitText(T.wait, ticket.est_wait_min, ticket.est_wait_max) : "—");
    const routeEnd = card.querySelector("[data-route-end]");
    if (routeEnd) {
      const end = ticket.est_route_done_at;
      routeEnd.hidden = !end;
      routeEnd.textContent = end ? M.format(T["ticket.route_end"], { time: L.clockTime(end, lang) }) : "";
    }
    const message = alertText(ticket);
    if (alertBox.textContent.trim() !== message) {
      const p = document.createElement("p");
      p.textContent = message;
      alertBox.replaceChildren(...(message ? [p] : []));
    }
    const becameNear = ticket.near && !shown.near;
    const becameCalled = ticket.status === "called" && shown.status !== "called";
    const recalled = shown.recalls !== null && ticket.recalls > shown.recalls;
    if (becameNear || becameCalled || recalled) alertVisitor(ticket);
    if (cancelLink && !(waiting || ticket.status === "called")) cancelLink.hidden = true;
    if (notifyButton && !waiting) notifyButton.hidden = true;
    shown = { status: ticket.status, near: ticket.near, recalls: ticket.recalls };
  }

  if (notifyButton && card.dataset.status === "waiting" && "Notification" in window && Notification.permission === "default") {
    notifyButton.hidden = false;
    notifyButton.addEventListener("click", () => {
      // A tap also unlocks the chime on phones that only play sound after a gesture.
      chime.load();
      Notification.requestPermission().finally(() => { notifyButton.hidden = true; });
    });
  }

  L.connect(`/ws/tickets/${encodeURIComponent(card.dataset.ticket)}`, {
    onState: L.showOffline,
    onMessage(message) {
      if (message.type !== "ticket") return;
      render(message.ticket);
      document.querySelectorAll("[data-updated]").forEach((node) => {
        node.textContent = M.format(T["public.updated"], { time: L.clockTime(message.at, lang) });
      });
    },
  });
})();
