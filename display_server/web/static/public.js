// Public overview and site page: each site card follows its site's websocket.
"use strict";
(function () {
  const L = window.MadoguchiLive;
  const M = window.MadoguchiMessages;
  const T = L.text();
  const lang = document.documentElement.lang;

  function render(card, status) {
    for (const svc of status.services) {
      const row = card.querySelector(`[data-service="${CSS.escape(svc.id)}"]`);
      if (!row) continue;
      row.querySelector("[data-waiting]").textContent = M.format(T["status.people"], { n: svc.waiting });
      row.querySelector("[data-wait]").textContent = M.waitText(T.wait, svc.est_wait_min, svc.est_wait_max);
      const level = row.querySelector("[data-level]");
      level.className = `level level-${svc.level}`;
      level.textContent = T[`level.${svc.level}`];
    }
    for (const counter of status.counters) {
      const row = card.querySelector(`[data-counter="${CSS.escape(counter.id)}"]`);
      if (!row) continue;
      row.querySelector("[data-state]").textContent = T[`counter.state.${counter.state}`];
      row.querySelector("[data-serving]").textContent = counter.serving || "—";
    }
    const calling = card.querySelector("[data-calling]");
    if (calling) {
      const labels = new Map(status.counters.map((c) => [c.id, c.label]));
      const active = status.calling.filter((c) => c.status === "called" || c.status === "serving");
      if (!active.length) {
        const li = document.createElement("li");
        li.className = "muted";
        li.textContent = T["public.none_called"];
        calling.replaceChildren(li);
      } else {
        calling.replaceChildren(...active.map((c) => {
          const li = document.createElement("li");
          const num = document.createElement("span");
          num.className = "num";
          num.textContent = c.display_number;
          const label = c.counter_label || labels.get(c.counter) || "";
          li.append(num, " ", M.format(T["public.counter_label"], { label }));
          return li;
        }));
      }
    }
    document.querySelectorAll("[data-updated]").forEach((node) => {
      node.textContent = M.format(T["public.updated"], { time: L.clockTime(status.at, lang) });
    });
  }

  document.querySelectorAll("[data-site]").forEach((card) => {
    let seq = -1;
    L.connect(`/ws/sites/${encodeURIComponent(card.dataset.site)}`, {
      onState: L.showOffline,
      onMessage(message) {
        const status = message.status;
        if (status && status.seq >= seq) {
          seq = status.seq;
          render(card, status);
        }
      },
    });
  });
})();
