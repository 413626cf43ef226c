"""Message catalogues: complete in Japanese and English; no text hard-coded in templates."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from display_server.i18n import MissingMessageError, load_catalog, negotiate

ROOT = Path(__file__).resolve().parents[2]
CATALOGUES = [
    ROOT / name / "locales"
    for name in ("display_server", "kiosk", "printers", "forecasting")
    if (ROOT / name / "locales").is_dir()
]
TEMPLATES = sorted(
    path for package in ("display_server", "kiosk") for path in (ROOT / package).rglob("*.html")
)
JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")


@pytest.mark.parametrize("locales", CATALOGUES, ids=lambda p: p.parent.name)
def test_japanese_and_english_have_the_same_keys(locales: Path) -> None:
    catalog = load_catalog(locales)
    ja, en = catalog.keys("ja"), catalog.keys("en")
    assert ja, f"{locales} has no Japanese messages"
    assert not ja - en, f"missing in English: {sorted(ja - en)}"
    assert not en - ja, f"missing in Japanese: {sorted(en - ja)}"


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
def test_templates_hold_no_japanese_text(template: Path) -> None:
    """Every visible text comes from a catalogue, so no template contains Japanese itself."""
    text = template.read_text(encoding="utf-8")
    assert not JAPANESE.search(text), JAPANESE.findall(text)[:10]


def test_fallback_and_negotiation() -> None:
    catalog = load_catalog(ROOT / "display_server" / "locales")
    assert catalog.gettext("vi", "counter.call_next") == catalog.gettext("ja", "counter.call_next")
    with pytest.raises(MissingMessageError):
        catalog.gettext("ja", "no.such.key")
    assert negotiate("en-US,en;q=0.9,ja;q=0.8") == "en"
    assert negotiate("fr-FR, de") == "ja"
    assert negotiate(None) == "ja"
