// The lobby display: renders each status it receives and announces every new call with a
// chime, then the Japanese and English voice (speechSynthesis where the browser has voices).
// Without voices the chime and the large flashing number still tell the room.
"use strict";
(function () {
  const L = window.MadoguchiLive;
  const M = window.MadoguchiMessages;
  const T = L.text("display-text");
  const body = document.body;
  const chime = document.querySelector("[data-chime]");
  const flash = document.querySelector("[data-flash]");
  const soundButton = document.querySelector("[data-sound]");
  const KEEP = 6;
  const FLASH_MS = 8000;
  // After a reconnect only the newest missed calls are announced, not a whole backlog.
  const MAX_REPLAYED = 3;
  let seq = -1;
  let clockOffset = Date.parse(body.dataset.at) - Date.now();
  const queue = [];
  let speaking = false;
  let replayed = [];
  let replayTimer = null;

  function el(tag, className, content) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (content !== undefined) node.append(...[].concat(content));
    return node;
  }

  function bilingual(pair, params) {
    return [M.format(pair.ja, params, { lang: "ja" }), " ",
      Object.assign(el("span", "", M.format(pair.en, params, { lang: "en" })), { lang: "en" })];
  }

  function render(status) {
    clockOffset = Date.parse(status.at) - Date.now();
    const calls = status.calling.slice(0, KEEP);
    const list = document.querySelector("[data-calls]");
    list.replaceChildren(...(calls.length ? calls.map((c, i) => el("li", i === 0 ? "latest" : "", [
      el("span", "num", c.display_number),
      el("span", "ctr", bilingual(T.counter_n, { label: c.counter_label })),
    ])) : [el("li", "none", bilingual(T.none))]));
    for (const svc of status.services) {
      const row = document.querySelector(`[data-service="${CSS.escape(svc.id)}"]`);
      if (!row) continue;
      row.querySelector("[data-waiting]").textContent = M.format(T.people.ja, { n: svc.waiting }, { lang: "ja" });
      row.querySelector("[data-wait]").textContent = M.waitText(T.wait, svc.est_wait_min, svc.est_wait_max, { lang: "ja" });
    }
  }

  function spokenNumber(number) {
    // "A012" is read "A 12": the voice reads the letter, then the number as a number.
    const match = /^(\D*)(\d+)$/.exec(number);
    return match ? `${match[1]} ${parseInt(match[2], 10)}` : number;
  }

  function voiceFor(lang) {
    const voices = window.speechSynthesis ? speechSynthesis.getVoices() : [];
    return voices.find((v) => v.lang.toLowerCase().startsWith(lang)) || null;
  }

  function speak(text, lang) {
    const voice = voiceFor(lang);
    if (!voice) return Promise.resolve();
    return new Promise((resolve) => {
      const utterance = new SpeechSynthesisUtterance(text);
      utterance.voice = voice;
      utterance.lang = voice.lang;
      utterance.rate = lang === "ja" ? 0.9 : 0.95;
      utterance.onend = utterance.onerror = () => resolve();
      speechSynthesis.speak(utterance);
    });
  }

  function playChime() {
    chime.currentTime = 0;
    return chime.play().then(() => new Promise((resolve) => { chime.onended = resolve; }))
      .catch(() => { soundButton.hidden = false; });
  }

  async function announce(call) {
    flash.querySelector(".num").textContent = call.display_number;
    flash.querySelector(".ctr").replaceChildren(...bilingual(T.counter_n, { label: call.counter_label }));
    flash.hidden = false;
    setTimeout(() => { flash.hidden = true; }, FLASH_MS);
    await playChime();
    const key = call.type === "recalled" ? "display.voice_recall" : "display.voice_call";
    const params = { number: spokenNumber(call.display_number), counter: call.counter_label };
    await speak(M.format(T.voice[key].ja, params, { lang: "ja" }), "ja");
    await speak(M.format(T.voice[key].en, params, { lang: "en" }), "en");
  }

  async function drain() {
    if (speaking) return;
    speaking = true;
    while (queue.length) await announce(queue.shift());
    speaking = false;
  }

  function isCall(message) {
    return (message.type === "called" || message.type === "recalled") && message.display_number;
  }

  L.connect(`/ws/sites/${encodeURIComponent(body.dataset.site)}`, {
    onState(online) {
      L.showOffline(online);
      replayed = [];
    },
    onMessage(message) {
      if (message.type === "snapshot") {
        // Changes with a seq up to the snapshot's are calls missed while offline.
        if (message.seq >= seq) render(message.status);
        seq = Math.max(seq, message.seq);
        return;
      }
      if (message.seq <= seq) {
        if (!isCall(message)) return;
        replayed.push(message);
        clearTimeout(replayTimer);
        replayTimer = setTimeout(() => {
          queue.push(...replayed.splice(0).slice(-MAX_REPLAYED));
          drain();
        }, 300);
        return;
      }
      if (message.status) {
        seq = message.status.seq;
        render(message.status);
      }
      if (isCall(message)) {
        queue.push(message);
        drain();
      }
    },
  });

  soundButton.addEventListener("click", () => {
    soundButton.hidden = true;
    chime.play().catch(() => {});
  });

  const clock = document.querySelector("[data-clock]");
  setInterval(() => {
    clock.textContent = L.clockTime(Date.now() + clockOffset, "ja");
  }, 1000);
})();
