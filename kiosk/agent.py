"""The print agent: issues tickets through the server, prints slips, reports printer health.

It is given its `httpx.Client` (base_url = the server, kiosk bearer token) and its printer
connection, never builds them, so tests hand it `httpx.MockTransport`, starlette's TestClient
or a virtual printer. Printing can fail; issuing must not: a ticket the server issued is always
returned to the page (which shows it large with its QR) and its slip waits for a reprint in the
`ReprintStore` (on disk, so a restart loses none).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from kiosk.errors import IssueRefused, RequestRejected, ServerUnavailable
from kiosk.reprints import ReprintStore
from printers import (
    CoverOpen,
    PaperOut,
    PrinterConnection,
    PrinterError,
    PrinterOffline,
    SlipData,
    print_slip,
    query_status,
)
from printers.slip import Mode

log = logging.getLogger("madoguchi.kiosk")


@dataclass(frozen=True)
class Retry:
    """Bounded retries for issuing: `attempts` in all, doubling delays capped at `max_delay`."""

    attempts: int = 4
    first_delay: float = 0.2
    max_delay: float = 1.0

    def delays(self) -> list[float]:
        return [min(self.first_delay * 2**i, self.max_delay) for i in range(self.attempts - 1)]


@dataclass(frozen=True)
class Issued:
    """A ticket the server issued, and what became of its slip."""

    ticket: Mapping[str, Any]
    printed: bool
    printer_state: str
    detail: str = ""


@dataclass
class _Health:
    """The last state reported per device kind, to report changes at once and the rest rarely."""

    last: dict[str, tuple[str, str]] = field(default_factory=dict)
    reported_at: dict[str, float] = field(default_factory=dict)


def printer_state_of(error: PrinterError) -> str:
    """The device-status word for a print failure."""
    if isinstance(error, PaperOut):
        return "paper_out"
    if isinstance(error, CoverOpen):
        return "cover_open"
    if isinstance(error, PrinterOffline):  # PrinterTimeout included
        return "offline"
    return "error"


class KioskAgent:
    """One kiosk: its site, its device name on the server, its printer and how it prints.

    `reprints` holds the slips waiting for the printer; the agent reprints what it holds,
    including slips queued before a restart, as soon as the printer is ready.
    """

    def __init__(
        self,
        client: httpx.Client,
        printer: PrinterConnection,
        *,
        reprints: ReprintStore,
        site: str,
        device: str,
        mode: Mode = "kanji",
        width: int = 58,
        retry: Retry | None = None,
        heartbeat_s: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client, self.printer, self.site, self.device = client, printer, site, device
        self.reprints = reprints
        self.mode, self.width = mode, width
        self.retry = retry or Retry()
        self.heartbeat_s = heartbeat_s
        self._sleep = sleep
        self._lock = threading.Lock()
        #: Tickets whose slip came out on a reprint, so the page can tell the visitor.
        self._reprinted: deque[int] = deque(maxlen=50)
        self._health = _Health()
        self.printer_state = "unknown"

    @property
    def printer_device(self) -> str:
        return f"{self.device}-printer"

    # ---------------------------------------------------------------- server

    def site_status(self, lang: str = "ja") -> dict[str, Any]:
        """The site's live status from the server (one try: the page polls again soon)."""
        try:
            response = self.client.get(f"/api/v1/sites/{self.site}/status", params={"lang": lang})
        except httpx.TransportError as exc:
            raise ServerUnavailable(f"server unreachable: {exc}") from exc
        if response.status_code >= 500:
            raise ServerUnavailable(f"server error {response.status_code}")
        if response.status_code != 200:
            raise RequestRejected(response.status_code, _detail(response))
        status: dict[str, Any] = response.json()
        return status

    def request_ticket(self, body: Mapping[str, Any], key: str) -> dict[str, Any]:
        """POST the ticket with `key`, retrying network errors and 5xx with the same key."""
        url = f"/api/v1/sites/{self.site}/tickets"
        headers = {"Idempotency-Key": key}
        problem = ""
        for delay in [*self.retry.delays(), None]:
            try:
                response = self.client.post(url, json=dict(body), headers=headers)
            except httpx.TransportError as exc:
                # The ticket may exist already (a dropped response): the same key finds it again.
                problem = f"{type(exc).__name__}: {exc}"
            else:
                if response.status_code in (200, 201):
                    ticket: dict[str, Any] = response.json()
                    return ticket
                if response.status_code < 500:
                    raise _rejection(response)
                problem = f"server error {response.status_code}"
            if delay is None:
                break
            log.warning("issuing failed (%s); retrying in %.1f s", problem, delay)
            self._sleep(delay)
        raise ServerUnavailable(f"no ticket after {self.retry.attempts} attempts: {problem}")

    def report(self, kind: str, state: str, detail: str = "", *, force: bool = False) -> None:
        """Tell the server a device's state; only changes, unless forced or the heartbeat is due.

        Never raises: staff alerts are best effort and must not stop the visitor's ticket.
        """
        now = time.monotonic()
        with self._lock:
            due = now - self._health.reported_at.get(kind, -1e9) >= self.heartbeat_s
            if not force and not due and self._health.last.get(kind) == (state, detail):
                return
            self._health.last[kind] = (state, detail)
            self._health.reported_at[kind] = now
        device = self.device if kind == "kiosk" else self.printer_device
        try:
            response = self.client.put(
                f"/api/v1/devices/{device}/status",
                json={"kind": kind, "state": state, "detail": detail[:500]},
            )
        except httpx.TransportError as exc:
            log.warning("could not report %s %s: %s", kind, state, exc)
            self._forget(kind)
            return
        if response.status_code != 200:
            log.warning("device report refused: %s %s", response.status_code, response.text)
            self._forget(kind)

    def _forget(self, kind: str) -> None:
        # An unsent report is sent again with the next check rather than silently lost.
        with self._lock:
            self._health.last.pop(kind, None)
            self._health.reported_at.pop(kind, None)

    # ---------------------------------------------------------------- tickets and slips

    def issue(
        self,
        service: str,
        *,
        lang: str = "ja",
        priority: bool = False,
        route: list[str] | None = None,
        key: str | None = None,
        guidance: str | None = None,
    ) -> Issued:
        """Issue a ticket and print its slip; a print failure queues the slip, never loses it."""
        body: dict[str, Any] = {"service": service, "lang": lang, "priority": priority}
        if route and len(route) > 1:
            body["route"] = route
        ticket = self.request_ticket(body, key or uuid.uuid4().hex)
        slip = slip_for(ticket, lang=lang, guidance=guidance)
        printed, state, detail = self._print(slip)
        if not printed:
            self.reprints.add(int(ticket["id"]), slip)
        return Issued(ticket=ticket, printed=printed, printer_state=state, detail=detail)

    def _print(self, slip: SlipData) -> tuple[bool, str, str]:
        try:
            result = print_slip(self.printer, slip, mode=self.mode, width=self.width)
        except PrinterError as error:
            state = printer_state_of(error)
            log.error("slip %s not printed: %s", slip.display_number, error)
            self.printer_state = state
            self.report("printer", state, str(error), force=True)
            return False, state, str(error)
        state = result.after.state
        detail = "; ".join(result.warnings)
        self.printer_state = state
        self.report("printer", state, detail)
        return True, state, detail

    def check_printer(self) -> str:
        """Ask the printer's status, report it and the kiosk's, and reprint once it is ready."""
        try:
            status = query_status(self.printer)
        except PrinterError as error:
            state, detail = printer_state_of(error), str(error)
        else:
            state, detail = status.state, ""
        self.printer_state = state
        self.report("printer", state, detail)
        # A reprint queue that lost (or may lose) a slip is the kiosk's fault for staff to see.
        fault = self.reprints.fault
        self.report("kiosk", "error" if fault else "ok", fault)
        if state in ("ok", "paper_near_end", "unknown"):
            self.reprint_pending()
        return state

    def reprint_pending(self) -> int:
        """Print queued slips in issue order; stop at the first failure. Returns how many.

        A slip leaves the queue only once the printer took it: a crash in between prints it
        once more after the restart rather than never.
        """
        done = 0
        while (queued := self.reprints.first()) is not None:
            ticket_id, slip = queued
            printed, _, _ = self._print(slip)
            if not printed:
                break
            self.reprints.remove(ticket_id)
            with self._lock:
                self._reprinted.append(ticket_id)
            done += 1
        return done

    def dismiss(self, ticket_id: int) -> bool:
        """The visitor left with the number on screen: do not reprint the slip later."""
        return self.reprints.remove(ticket_id)

    def queue(self) -> dict[str, list[int]]:
        """Ticket ids waiting for a reprint and recently reprinted."""
        with self._lock:
            reprinted = list(self._reprinted)
        return {"pending": self.reprints.ticket_ids(), "reprinted": reprinted}

    def monitor(self, stop: threading.Event, every_s: float = 10.0) -> None:
        """Check the printer every `every_s` seconds until `stop` is set (a daemon thread)."""
        while not stop.is_set():
            try:
                self.check_printer()
            except Exception:  # the loop must survive anything; the next round retries
                log.exception("printer check failed")
            stop.wait(every_s)


def slip_for(ticket: Mapping[str, Any], *, lang: str, guidance: str | None = None) -> SlipData:
    """The slip of a ticket as the server described it."""
    return SlipData(
        site_name=str(ticket["site_name"]),
        service_name=str(ticket["service_name"]),
        display_number=str(ticket["display_number"]),
        issued_at=dt.datetime.fromisoformat(str(ticket["issued_at"])),
        ahead=int(ticket["ahead"]),
        est_wait_min=ticket.get("est_wait_min"),
        est_wait_max=ticket.get("est_wait_max"),
        status_url=str(ticket["status_url"]),
        lang=lang,
        guidance=guidance,
        route_done_at=(
            dt.datetime.fromisoformat(str(ticket["est_route_done_at"]))
            if ticket.get("est_route_done_at") else None
        ),
    )


def _detail(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail")
    except ValueError:
        return response.text[:200]
    return detail if isinstance(detail, str) else str(detail)


def _rejection(response: httpx.Response) -> Exception:
    if response.status_code == 409:
        body = response.json()
        if isinstance(body, dict) and body.get("reason"):
            return IssueRefused(str(body["reason"]), _detail(response), body.get("next_opening"))
    return RequestRejected(response.status_code, _detail(response))
