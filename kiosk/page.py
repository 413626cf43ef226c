"""The one kiosk UI: its page, texts and JSON answers, shared by the kiosk's own local app and
the server's `/kiosk/{site}` page for tablets without a printer.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from display_server.i18n import (
    BROWSER_HELPER,
    SUPPORTED_LANGUAGES,
    Catalog,
    load_catalog,
    negotiate,
)
from kiosk.errors import IssueRefused
from kiosk.qr import qr_svg

HERE = Path(__file__).parent
STATIC = HERE / "static"
LOCALES = HERE / "locales"
_env = Environment(
    loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"])
)


def catalog() -> Catalog:
    return load_catalog(LOCALES)


def texts(lang: str) -> dict[str, str | dict[str, str]]:
    """Every kiosk message in `lang` (Japanese where a language lacks one), for the page's JS:
    a text, or a plural message's forms by plural category (see display_server.i18n)."""
    cat = catalog()
    return {key: cat.script_message(lang, key) for key in sorted(cat.keys("ja"))}


@functools.cache
def messages_script() -> str:
    """The server's static/messages.js (formatting and plural forms), inlined into the page:
    the kiosk's own app serves only the kiosk's static files."""
    script = BROWSER_HELPER.read_text(encoding="utf-8")
    if "</script" in script.lower():
        raise ValueError(f"{BROWSER_HELPER} cannot be inlined: it contains '</script'")
    return script


def render_page(
    *, lang: str, api: str, static: str, idle_s: float = 30.0, poll_s: float = 4.0
) -> str:
    """The kiosk page; `api` is the prefix of its `status`/`issue`/`dismiss` calls."""
    lang = negotiate(lang)
    config = {
        "lang": lang,
        "api": api,
        "idle_ms": int(idle_s * 1000),
        "poll_ms": int(poll_s * 1000),
        "languages": list(SUPPORTED_LANGUAGES),
    }
    return _env.get_template("kiosk.html").render(
        lang=lang,
        _=catalog().for_language(lang),
        languages=SUPPORTED_LANGUAGES,
        static=static,
        # "</" would end the script element early; JSON allows escaping the slash.
        config_json=json.dumps(config).replace("</", "<\\/"),
        texts_json=json.dumps(texts(lang), ensure_ascii=False).replace("</", "<\\/"),
        messages_js=messages_script(),
    )


def ticket_answer(
    ticket: Mapping[str, Any], *, printed: bool | None, printer_state: str | None, lang: str
) -> dict[str, Any]:
    """What the page shows after an issue; `printed` None means this kiosk has no printer."""
    _ = catalog().for_language(lang)
    if printed is None:
        message = _("kiosk.ticket.no_printer")
    elif printed:
        message = _("kiosk.ticket.take_slip")
    else:
        message = _("kiosk.ticket.print_failed")
    shown = (
        "id",
        "display_number",
        "service",
        "service_name",
        "site_name",
        "ahead",
        "est_wait_min",
        "est_wait_max",
        "est_route_done_at",
        "status_url",
        "issued_at",
        "route",
        "priority",
    )
    done_at = ticket.get("est_route_done_at")
    return {
        "ok": True,
        "ticket": {key: ticket.get(key) for key in shown},
        # The office's wall-clock time, as on the slip: the server writes it with the office's
        # UTC offset.
        "route_end": _(
            "kiosk.ticket.route_end",
            time=dt.datetime.fromisoformat(str(done_at)).strftime("%H:%M"),
        ) if done_at else None,
        "printed": printed,
        "printer_state": printer_state,
        "message": message,
        "qr_svg": qr_svg(str(ticket["status_url"])),
    }


def refusal_answer(error: IssueRefused, *, lang: str) -> dict[str, Any]:
    _ = catalog().for_language(lang)
    key = f"kiosk.closed.{error.reason}"
    message = _(key) if key in catalog().keys("ja") else _("kiosk.unavailable")
    return {
        "ok": False,
        "reason": error.reason,
        "next_opening": error.next_opening,
        "message": message,
        "detail": str(error),
    }


def failure_answer(reason: str, *, lang: str, detail: str = "") -> dict[str, Any]:
    """The server could not be reached, or refused this kiosk: ask the visitor to see staff."""
    message = catalog().gettext(negotiate(lang), "kiosk.unavailable")
    return {
        "ok": False,
        "reason": reason,
        "next_opening": None,
        "message": message,
        "detail": detail,
    }
