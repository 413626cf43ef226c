// The kiosk touch page: choose → confirm (with the wait) → ticket. Texts come from the
// catalogue embedded in the page; the agent (or the server) does the issuing and printing.
(() => {
  "use strict";
  const cfg = JSON.parse(document.getElementById("kiosk-config").textContent);
  const T = JSON.parse(document.getElementById("kiosk-texts").textContent);
  const $ = (id) => document.getElementById(id);
  // A message with plural forms takes its form from params.n (messages.js, inlined by the page).
  const t = (key, params = {}) => window.MadoguchiMessages.format(T[key] || key, params,
    { lang: cfg.lang });
  const SCREENS = ["start", "several", "priority", "confirm", "ticket", "closed"];
  const MAX_ROUTE = 6;
  const state = { status: null, screen: "start", priority: false, several: false, route: [],
                  key: null, ticket: null, failed: false, closedByStatus: false, busy: false };

  function newKey() {
    // One key per tap on a service; a retry of the same tap reuses it, so no second ticket.
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function show(name) {
    state.screen = name;
    for (const screen of SCREENS) $("screen-" + screen).hidden = screen !== name;
    const heading = $("screen-" + name).querySelector("h1, .k-subtitle");
    if (heading) { heading.tabIndex = -1; heading.focus({ preventScroll: true }); }
    window.scrollTo(0, 0);
  }

  // The wait of an estimate; a range is led by the line's length when `waiting` is given.
  function waitRange(estimate, waiting) {
    if (estimate.est_wait_min == null || estimate.est_wait_max == null) return t("kiosk.wait_unknown");
    if (estimate.est_wait_max === 0) return t("kiosk.wait_none");
    const range = t("kiosk.wait_range", { min: estimate.est_wait_min, max: estimate.est_wait_max });
    return waiting == null ? range : t("kiosk.waiting", { n: waiting }) + " · " + range;
  }

  function waitText(service) {
    return waitRange(service, service.waiting);
  }

  function serviceById(id) {
    return (state.status?.services || []).find((s) => s.id === id);
  }

  function serviceButton(service, onTap) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "k-service";
    button.dataset.service = service.id;
    const name = document.createElement("span");
    name.className = "k-service-title";
    name.textContent = service.name;
    const wait = document.createElement("span");
    wait.className = "k-wait";
    const soldOut = service.remaining === 0;
    wait.textContent = soldOut ? t("kiosk.sold_out") : waitText(service);
    button.append(name, wait);
    if (service.remaining != null && !soldOut) {
      const left = document.createElement("span");
      left.className = "k-remaining";
      left.textContent = t("kiosk.remaining", { n: service.remaining });
      button.append(left);
    }
    button.disabled = soldOut;
    button.addEventListener("click", () => onTap(service));
    const item = document.createElement("li");
    item.append(button);
    return item;
  }

  function renderServices() {
    const services = state.status?.services || [];
    $("services").replaceChildren(...services.map((s) => serviceButton(s, choose)));
    $("several-list").replaceChildren(...services.map((s) => {
      const item = serviceButton(s, toggleStep);
      const button = item.firstChild;
      const step = state.route.indexOf(s.id);
      button.setAttribute("aria-pressed", String(step >= 0));
      if (step >= 0) {
        const badge = document.createElement("span");
        badge.className = "k-step";
        badge.textContent = t("kiosk.several.step", { n: step + 1 });
        button.prepend(badge);
      }
      return item;
    }));
    $("several-next").disabled = state.route.length === 0;
    $("priority-banner").hidden = !state.priority;
  }

  function choose(service) {
    state.route = [service.id];
    confirm();
  }

  function toggleStep(service) {
    const at = state.route.indexOf(service.id);
    if (at >= 0) state.route.splice(at, 1);
    else if (state.route.length < MAX_ROUTE) state.route.push(service.id);
    renderServices();
  }

  function confirm() {
    const first = serviceById(state.route[0]);
    if (!first) return;
    state.key = newKey();
    $("confirm-service").textContent = first.name;
    $("confirm-route").replaceChildren(...state.route.map((id) => {
      const li = document.createElement("li");
      li.textContent = serviceById(id)?.name || id;
      return li;
    }));
    $("confirm-route-box").hidden = state.route.length < 2;
    $("confirm-service").hidden = state.route.length >= 2;
    $("confirm-wait").textContent = waitText(first);
    $("confirm-priority").hidden = !state.priority;
    show("confirm");
  }

  // The office's time zone, from its status; without one, the kiosk's own (it stands in the
  // office).
  function officeZone(status) {
    return status?.timezone || undefined;
  }

  function formatOpening(iso) {
    if (!iso) return "";
    const when = new Intl.DateTimeFormat(cfg.lang, {
      timeZone: officeZone(state.status), month: "long", day: "numeric", weekday: "short",
      hour: "numeric", minute: "2-digit",
    }).format(new Date(iso));
    return t("kiosk.closed.next", { when });
  }

  function showClosed(message, nextOpening, byStatus) {
    state.closedByStatus = byStatus;
    $("closed-title").textContent = message;
    $("closed-next").textContent = formatOpening(nextOpening);
    show("closed");
  }

  function closedReason(status) {
    if (!status.hours) return "closed";
    const local = new Intl.DateTimeFormat("en-GB", { timeZone: officeZone(status), hour: "2-digit",
      minute: "2-digit", hourCycle: "h23" }).format(new Date(status.at));
    return local >= status.hours.cutoff ? "after_cutoff" : "closed";
  }

  async function issue() {
    if (state.busy) return;
    state.busy = true;
    $("busy").hidden = false;
    $("confirm-issue").disabled = true;
    const body = { service: state.route[0], route: state.route, priority: state.priority,
                   lang: cfg.lang, key: state.key };
    try {
      let response;
      for (let attempt = 0; ; attempt++) {
        try {
          response = await fetch(cfg.api + "/issue", { method: "POST", body: JSON.stringify(body),
            headers: { "Content-Type": "application/json" } });
          break;
        } catch (error) {  // the local link hiccuped: the same key cannot make a second ticket
          if (attempt >= 2) throw error;
          await new Promise((resolve) => setTimeout(resolve, 500));
        }
      }
      const answer = await response.json();
      if (response.status === 201) showTicket(answer);
      else showClosed(answer.message || t("kiosk.unavailable"), answer.next_opening, false);
    } catch (error) {
      showClosed(t("kiosk.unavailable"), null, false);
    } finally {
      state.busy = false;
      $("busy").hidden = true;
      $("confirm-issue").disabled = false;
    }
  }

  function showTicket(answer) {
    const ticket = answer.ticket;
    state.ticket = ticket;
    state.failed = answer.printed === false;
    $("ticket-number").textContent = ticket.display_number;
    const names = (ticket.route?.length > 1 ? ticket.route : [ticket.service])
      .map((id) => serviceById(id)?.name || ticket.service_name);
    $("ticket-service").textContent = names.join(" → ");
    // The people ahead are said once: not again as the line's "N waiting".
    $("ticket-wait").textContent = t("kiosk.ticket.people_ahead", { n: ticket.ahead }) + " · " +
      waitRange(ticket);
    $("ticket-route-end").textContent = answer.route_end || "";
    $("ticket-route-end").hidden = !answer.route_end;
    $("ticket-qr").innerHTML = answer.qr_svg;  // drawn by our own agent from the status URL
    $("ticket-qr").setAttribute("role", "img");
    $("ticket-qr").setAttribute("aria-label", t("kiosk.ticket.qr_label", { url: ticket.status_url }));
    $("ticket-priority").hidden = !ticket.priority;
    $("ticket-alert").hidden = !state.failed;
    $("ticket-alert").textContent = state.failed ? answer.message : "";
    $("ticket-message").textContent = state.failed ? t("kiosk.ticket.print_failed_help") : answer.message;
    $("ticket-done").textContent = t(state.failed ? "kiosk.ticket.done_failed" : "kiosk.ticket.done");
    $("screen-ticket").classList.toggle("k-failed", state.failed);
    show("ticket");
  }

  function finishTicket() {
    if (state.failed && state.ticket) {
      fetch(cfg.api + "/dismiss", { method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ ticket_id: state.ticket.id }) }).catch(() => {});
    }
    reset();
  }

  function reset(newVisitor = true) {
    if (newVisitor && cfg.lang !== cfg.languages[0]) {  // the next visitor starts in the first language
      window.location.search = "?lang=" + cfg.languages[0];
      return;
    }
    Object.assign(state, { priority: false, several: false, route: [], key: null, ticket: null,
                           failed: false });
    renderServices();
    if (state.status && state.status.accepting === false) {
      showClosed(t("kiosk.closed." + closedReason(state.status)), state.status.next_opening, true);
    } else {
      show("start");
    }
  }

  async function poll() {
    try {
      const response = await fetch(cfg.api + "/status?lang=" + cfg.lang, { cache: "no-store" });
      const answer = await response.json();
      if (answer.ok) {
        state.status = answer.status;
        $("site-name").textContent = answer.status.name;
        if (!["confirm", "ticket"].includes(state.screen)) renderServices();
        const browsing = ["start", "several", "priority"].includes(state.screen);
        if (answer.status.accepting === false && browsing) {
          showClosed(t("kiosk.closed." + closedReason(answer.status)), answer.status.next_opening, true);
        } else if (answer.status.accepting && state.screen === "closed" && state.closedByStatus) {
          show("start");
        }
      }
      if (state.failed && state.ticket && (answer.reprinted || []).includes(state.ticket.id)) {
        state.failed = false;
        $("ticket-alert").hidden = true;
        $("screen-ticket").classList.remove("k-failed");
        $("ticket-message").textContent = t("kiosk.ticket.reprinted");
        $("ticket-done").textContent = t("kiosk.ticket.done");
      }
    } catch (error) {
      // The next poll tries again; the page keeps what it showed last.
    }
  }

  let idleTimer = null;
  function touched() {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => {
      // A ticket whose slip failed stays until the visitor dismisses it.
      if (state.screen === "ticket" && state.failed) return touched();
      if (state.screen !== "start" || cfg.lang !== cfg.languages[0] || state.priority) reset();
      touched();
    }, cfg.idle_ms);
  }

  for (const button of document.querySelectorAll("[data-go]")) {
    button.addEventListener("click", () => (button.dataset.go === "start" ? reset(false) : show(button.dataset.go)));
  }
  $("open-several").addEventListener("click", () => { state.route = []; renderServices(); show("several"); });
  $("several-next").addEventListener("click", confirm);
  $("open-priority").addEventListener("click", () => show("priority"));
  $("priority-continue").addEventListener("click", () => { state.priority = true; renderServices(); show("start"); });
  $("confirm-issue").addEventListener("click", issue);
  $("ticket-done").addEventListener("click", finishTicket);
  document.addEventListener("pointerdown", touched, { passive: true });
  document.addEventListener("keydown", touched);
  touched();
  poll();
  setInterval(poll, cfg.poll_ms);
})();
