"""static/messages.js in chromium: the browser picks the same plural form as the server.

Every plural message of the display server's and the kiosk's catalogues, as the server exports
it to pages, is formatted by messages.js (Intl.PluralRules) and by `Catalog.ngettext` (the
catalogue's Plural-Forms header) for many counts; the two must give the same text. Likewise
an estimated wait: `MadoguchiMessages.waitText` and the server's `wait_estimate`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from display_server.i18n import BROWSER_HELPER, load_catalog
from display_server.web.pages import WAIT_KEYS, wait_estimate, wait_messages

ROOT = Path(__file__).resolve().parents[2]
CATALOGUES = [ROOT / "display_server" / "locales", ROOT / "kiosk" / "locales"]
COUNTS = [*range(31), 100, 101, 111, 1000, 1001]


def load_helper(page: Any, lang: str) -> None:
    page.set_content(f'<!doctype html><html lang="{lang}"><body></body></html>')
    page.add_script_tag(path=str(BROWSER_HELPER))


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_the_browser_and_the_server_pick_the_same_form(page: Any, lang: str) -> None:
    load_helper(page, lang)
    cases, expected = [], []
    for locales in CATALOGUES:
        catalog = load_catalog(locales)
        for key in sorted(k for k in catalog.keys("ja") if catalog.is_plural(k)):
            message = catalog.script_message(lang, key)
            names = set(re.findall(r"\{(\w+)\}", "".join(message.values()))) - {"n"}
            params = {name: f"<{name}>" for name in sorted(names)}
            for n in COUNTS:
                cases.append([message, params, n])
                expected.append(catalog.ngettext(lang, key, n, **params))
    assert len(cases) > 8 * len(COUNTS)
    got = page.evaluate(
        "cases => cases.map(([m, p, n]) => MadoguchiMessages.format(m, p, { count: n }))", cases
    )
    assert got == expected


def test_the_count_defaults_to_n_and_the_language_to_the_page(page: Any) -> None:
    load_helper(page, "en")
    people = {"one": "{n} person", "other": "{n} people"}
    fmt = "([m, p, o]) => MadoguchiMessages.format(m, p, o)"
    assert [page.evaluate(fmt, [people, {"n": n}, {}]) for n in (0, 1, 2)] == [
        "0 people",
        "1 person",
        "2 people",
    ]
    assert page.evaluate(fmt, [{"other": "{n} 人"}, {"n": 1}, {"lang": "ja"}]) == "1 人"
    assert page.evaluate(fmt, ["{a} and {b} {c}", {"a": 1, "b": None}, {}]) == "1 and  {c}"


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_the_browser_words_a_wait_like_the_server(page: Any, lang: str) -> None:
    load_helper(page, lang)
    translator = load_catalog(CATALOGUES[0]).for_language(lang)
    waits = [(None, None), (0, 0), (0, 5), (3, 3), (12, 40)]
    cases, expected = [], []
    for keys in WAIT_KEYS:
        for lo, hi in waits:
            cases.append([wait_messages(translator, keys), lo, hi])
            expected.append(wait_estimate(translator, lo, hi, keys))
    got = page.evaluate(
        "cases => cases.map(([t, lo, hi]) => MadoguchiMessages.waitText(t, lo, hi))", cases
    )
    assert got == expected
    assert expected.count(translator("status.no_wait")) == 2 * waits.count((0, 0))
