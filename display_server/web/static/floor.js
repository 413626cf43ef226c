// Floor view: keep the board (alerts, counters, queues, tickets) current.
// `refresh()` reloads the board; every change the websocket hub announces for the site calls
// it, and a timer calls it too: often while the live link is down, now and then while it is up
// (waits grow and printers fail without any ticket event).
"use strict";
(() => {
  const board = document.getElementById("board");
  if (!board) return;
  const fallbackMs = Number(board.dataset.refresh || 5) * 1000;
  const steadyMs = 3 * fallbackMs;
  let busy = false;
  let again = false;
  let live = false;
  let last = 0;

  async function refresh() {
    // Never swap the board under someone choosing a transfer target or pressing a button.
    if (board.contains(document.activeElement)) return;
    if (busy) { again = true; return; }
    busy = true;
    last = Date.now();
    try {
      const response = await fetch(board.dataset.src, { credentials: "same-origin" });
      if (response.ok) {
        board.innerHTML = await response.text();
      } else if (response.status === 401) {
        window.location.reload(); // the session ended: the page sends the user to sign in
      }
    } catch (error) {
      // Offline for a moment: keep the last picture; the next round tries again.
    } finally {
      busy = false;
      if (again) { again = false; refresh(); }
    }
  }

  setInterval(() => {
    if (Date.now() - last >= (live ? steadyMs : fallbackMs) - 100) refresh();
  }, fallbackMs);
  if (window.MadoguchiLive && board.dataset.ws) {
    window.MadoguchiLive.connect(board.dataset.ws, {
      onMessage: () => refresh(),
      onState: (online) => { live = online; },
    });
  }
  window.madoguchiFloor = { refresh };
})();
