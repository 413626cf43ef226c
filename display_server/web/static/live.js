// The live link shared by every page: a websocket that reconnects by itself with exponential
// backoff and resumes from the last sequence number it saw (?since=N), plus small helpers
// (messages are formatted by messages.js). No framework and no build step: pages include this
// file before their own script.
"use strict";
(function () {
  const MIN_DELAY_MS = 500;
  const MAX_DELAY_MS = 15000;
  const PING_MS = 20000;
  // Browsers cannot see protocol pings, so silence longer than this means a dead link.
  const SILENCE_MS = 50000;

  function connect(path, handlers) {
    let since = null;
    let delay = MIN_DELAY_MS;
    let socket = null;
    let pinger = null;
    let watchdog = null;
    let stopped = false;

    function kick() {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => socket && socket.close(), SILENCE_MS);
    }

    function open() {
      const url = new URL(path, location.href);
      url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
      if (since !== null) url.searchParams.set("since", String(since));
      socket = new WebSocket(url);
      socket.onopen = () => {
        delay = MIN_DELAY_MS;
        handlers.onState && handlers.onState(true);
        pinger = setInterval(() => socket.send('{"type":"ping"}'), PING_MS);
        kick();
      };
      socket.onmessage = (event) => {
        kick();
        const message = JSON.parse(event.data);
        if (typeof message.seq === "number" && (since === null || message.seq > since)) since = message.seq;
        if (message.type !== "pong") handlers.onMessage(message);
      };
      socket.onclose = (event) => {
        clearInterval(pinger);
        clearTimeout(watchdog);
        handlers.onState && handlers.onState(false);
        // 4404: the site or ticket does not exist; trying again would not help.
        if (stopped || event.code === 4404) return;
        const jitter = Math.random() * delay * 0.3;
        setTimeout(open, delay + jitter);
        delay = Math.min(delay * 2, MAX_DELAY_MS);
      };
    }

    open();
    return { stop() { stopped = true; socket && socket.close(); } };
  }

  function text(id) {
    const node = document.getElementById(id || "live-text");
    return node ? JSON.parse(node.textContent) : {};
  }

  // The ward's time zone (`policy.timezone`), whatever the device's own.
  const zone = document.documentElement.dataset.zone;

  function clockTime(iso, lang) {
    return new Date(iso).toLocaleTimeString(lang === "en" ? "en-GB" : "ja-JP",
      { timeZone: zone, hour: "2-digit", minute: "2-digit" });
  }

  function showOffline(online) {
    document.querySelectorAll("[data-offline]").forEach((node) => { node.hidden = online; });
    document.body.classList.toggle("is-offline", !online);
  }

  window.MadoguchiLive = { connect, text, clockTime, showOffline };
})();
