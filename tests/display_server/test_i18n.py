"""Message catalogues: complete in Japanese and English, plural forms consistent with each
language's Plural-Forms header; no text hard-coded in templates."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from display_server.i18n import (
    SUPPORTED_LANGUAGES,
    CatalogError,
    MissingMessageError,
    PluralMismatchError,
    load_catalog,
    negotiate,
)

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
PLACEHOLDER = re.compile(r"\{(\w+)")
#: The Plural-Forms header every file of a language declares.
PLURAL_FORMS = {"ja": "nplurals=1; plural=0;", "en": "nplurals=2; plural=(n != 1);"}
#: An English count in front of a noun that changes with it ("{n} people", "{s} seconds").
ENGLISH_COUNTED_NOUN = re.compile(r"\{(?:n|s|weeks|recalls|ahead|count)\} (?:people|\w+s)\b")
PO_FILES = sorted(path for locales in CATALOGUES for path in locales.glob("*/LC_MESSAGES/*.po"))
DISPLAY = ROOT / "display_server" / "locales"
KIOSK = ROOT / "kiosk" / "locales"


@pytest.mark.parametrize("lang", [lang for lang in SUPPORTED_LANGUAGES if lang != "ja"])
@pytest.mark.parametrize("locales", CATALOGUES, ids=lambda p: p.parent.name)
def test_every_language_offered_has_the_japanese_keys(locales: Path, lang: str) -> None:
    catalog = load_catalog(locales)
    ja, other = catalog.keys("ja"), catalog.keys(lang)
    assert ja, f"{locales} has no Japanese messages"
    assert not ja - other, f"missing in {lang}: {sorted(ja - other)}"
    assert not other - ja, f"missing in Japanese: {sorted(other - ja)}"


@pytest.mark.parametrize("locales", [DISPLAY, KIOSK], ids=lambda p: p.parent.name)
def test_the_language_switchers_name_every_language_in_every_language(locales: Path) -> None:
    catalog = load_catalog(locales)
    for lang in SUPPORTED_LANGUAGES:
        assert {f"lang.{code}" for code in SUPPORTED_LANGUAGES} <= catalog.keys(lang)


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


@pytest.mark.parametrize("po_path", PO_FILES, ids=lambda p: "/".join(p.parts[-5::2]))
def test_every_file_declares_its_language_and_plural_forms(po_path: Path) -> None:
    lang = po_path.parent.parent.name
    text = po_path.read_text(encoding="utf-8")
    assert f'"Language: {lang}\\n"' in text
    # `load_catalog` checks the rule against CLDR's for the language.
    assert re.search(r'"Plural-Forms: nplurals=\d+; plural=[^"]+;\\n"', text)
    with po_path.open("rb") as handle:
        plural_ids = [m.id for m in read_po(handle) if isinstance(m.id, tuple)]
    assert all(plural == f"{key}.plural" for key, plural in plural_ids), plural_ids


@pytest.mark.parametrize("locales", CATALOGUES, ids=lambda p: p.parent.name)
def test_plural_messages_are_plural_in_every_language_with_their_forms(locales: Path) -> None:
    catalog = load_catalog(locales)
    assert catalog.plural_rules["ja"].nplurals == 1
    assert catalog.plural_rules["en"].nplurals == 2
    for key in catalog.keys("ja"):
        ja, en = catalog.messages["ja"][key], catalog.messages["en"][key]
        assert isinstance(ja, str) == isinstance(en, str), f"{key} is plural in one language only"
        plural = not isinstance(ja, str)
        # A translation may leave a parameter out ("1 person") but never make one up; a plural
        # message always gets {n}, the count.
        allowed = set(PLACEHOLDER.findall("".join(ja))) | ({"n"} if plural else set())
        for lang, message in (("ja", ja), ("en", en)):
            forms = (message,) if isinstance(message, str) else message
            if plural:
                assert len(forms) == catalog.plural_rules[lang].nplurals, (lang, key)
            for form in forms:
                assert form and set(PLACEHOLDER.findall(form)) <= allowed, (lang, key, form)


@pytest.mark.parametrize("locales", CATALOGUES, ids=lambda p: p.parent.name)
def test_english_counts_in_front_of_a_noun_have_plural_forms(locales: Path) -> None:
    """A guard against a new "{n} people" without msgid_plural: "1 people" again."""
    catalog = load_catalog(locales)
    plain = {key: m for key, m in catalog.messages["en"].items() if isinstance(m, str)}
    assert not {key: m for key, m in plain.items() if ENGLISH_COUNTED_NOUN.search(m)}


def test_english_takes_the_singular_for_one_and_the_plural_otherwise() -> None:
    catalog = load_catalog(DISPLAY)
    assert catalog.ngettext("en", "status.people", 1) == "1 person"
    assert catalog.ngettext("en", "status.people", 2) == "2 people"
    assert catalog.ngettext("en", "status.people", 0) == "0 people"
    assert catalog.ngettext("en", "faq.results", 1, q="tax") == "1 result for “tax”"
    assert catalog.ngettext("en", "faq.results", 0, q="tax") == "0 results for “tax”"
    alert = {"number": "A001", "counter": "Counter 1", "minutes": 4}
    assert catalog.ngettext("en", "floor.alert.unanswered", 1, recalls=1, **alert) == (
        "A001 has not come to Counter 1 (4 min, 1 recall)"
    )
    assert catalog.ngettext("en", "floor.alert.unanswered", 2, recalls=2, **alert).endswith(
        "(4 min, 2 recalls)"
    )
    kiosk = load_catalog(KIOSK)
    assert [kiosk.ngettext("en", "kiosk.ticket.people_ahead", n) for n in (0, 1, 2)] == [
        "0 people ahead of you",
        "1 person ahead of you",
        "2 people ahead of you",
    ]


def test_japanese_has_one_form_for_every_count() -> None:
    catalog, kiosk = load_catalog(DISPLAY), load_catalog(KIOSK)
    for n in (0, 1, 2, 21):
        assert catalog.ngettext("ja", "status.people", n) == f"{n} 人"
        assert catalog.ngettext("ja", "faq.all_entries", n) == f"{n}件の質問"
        assert kiosk.ngettext("ja", "kiosk.ticket.people_ahead", n) == f"あなたの前に {n}人"


def test_templates_translator_and_fallback_take_a_count() -> None:
    catalog = load_catalog(DISPLAY)
    assert catalog.for_language("en").ngettext("stats.journey_n", 1) == "1 ticket"
    assert catalog.for_language("en").ngettext("stats.journey_n", 1, n="one") == "one ticket"
    assert catalog.for_language("en-GB").ngettext("forecast.weeks", 4) == "4 weeks"
    assert catalog.ngettext("vi", "status.people", 1) == "1 人"  # no Vietnamese: Japanese
    assert catalog.is_plural("status.people") and not catalog.is_plural("counter.call_next")


def test_a_plural_message_needs_a_count_and_a_plain_one_refuses_it() -> None:
    catalog = load_catalog(DISPLAY)
    with pytest.raises(PluralMismatchError):
        catalog.gettext("en", "status.people", n=1)
    with pytest.raises(PluralMismatchError):
        catalog.ngettext("en", "counter.call_next", 1)
    with pytest.raises(MissingMessageError):
        catalog.ngettext("en", "no.such.key", 1)


def test_pages_get_the_plural_forms_by_plural_category() -> None:
    """What static/messages.js receives and picks from with Intl.PluralRules."""
    catalog = load_catalog(DISPLAY)
    assert catalog.script_message("en", "status.people") == {
        "one": "{n} person",
        "other": "{n} people",
    }
    assert catalog.script_message("ja", "status.people") == {"other": "{n} 人"}
    assert catalog.script_message("en", "counter.call_next") == "Call next"
    assert catalog.for_language("en").script("stats.journey_n") == {
        "one": "{n} ticket",
        "other": "{n} tickets",
    }


def write_po(locales: Path, lang: str, plural_forms: str, body: str, name: str = "m") -> None:
    folder = locales / lang / "LC_MESSAGES"
    folder.mkdir(parents=True, exist_ok=True)
    header = (
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n'
        f'"Language: {lang}\\n"\n"Plural-Forms: {plural_forms}\\n"\n\n'
    )
    (folder / f"{name}.po").write_text(header + body, encoding="utf-8")


PEOPLE_JA = 'msgid "p"\nmsgid_plural "p.plural"\nmsgstr[0] "{n} 人"\n'


@pytest.mark.parametrize(
    ("lang", "plural_forms"),
    [
        ("en", "nplurals=2; plural=(n > 1);"),  # French: 0 would take the singular
        ("en", "nplurals=3; plural=(n == 1 ? 0 : n == 2 ? 1 : 2);"),  # CLDR: only one/other
        ("ja", "nplurals=2; plural=(n != 1);"),  # CLDR: Japanese has one form
        ("en", "nplurals=2; plural=(n != 1 ? 2 : 0);"),  # a form that does not exist
        ("en", "nplurals=2; plural=n +;"),
    ],
)
def test_a_plural_forms_header_that_disagrees_with_cldr_is_refused(
    tmp_path: Path, lang: str, plural_forms: str
) -> None:
    """The browser picks forms with CLDR's rule (Intl.PluralRules): the header must agree."""
    write_po(tmp_path, lang, plural_forms, 'msgid "a"\nmsgstr "a"\n')
    with pytest.raises(CatalogError):
        load_catalog(tmp_path)


def test_files_of_one_language_share_their_plural_forms(tmp_path: Path) -> None:
    write_po(tmp_path, "en", "nplurals=2; plural=(n != 1);", 'msgid "a"\nmsgstr "a"\n', "a")
    write_po(tmp_path, "en", "nplurals=1; plural=0;", 'msgid "b"\nmsgstr "b"\n', "b")
    with pytest.raises(CatalogError, match="differs"):
        load_catalog(tmp_path)


def test_a_plural_message_lacking_a_form_is_refused(tmp_path: Path) -> None:
    write_po(tmp_path, "ja", PLURAL_FORMS["ja"], PEOPLE_JA)
    write_po(
        tmp_path,
        "en",
        PLURAL_FORMS["en"],
        'msgid "p"\nmsgid_plural "p.plural"\nmsgstr[0] "{n} person"\n',
    )
    with pytest.raises(CatalogError, match="2 plural form"):
        load_catalog(tmp_path)


def test_an_untranslated_plural_message_shows_japanese(tmp_path: Path) -> None:
    write_po(tmp_path, "ja", PLURAL_FORMS["ja"], PEOPLE_JA)
    write_po(
        tmp_path,
        "en",
        PLURAL_FORMS["en"],
        'msgid "p"\nmsgid_plural "p.plural"\nmsgstr[0] ""\nmsgstr[1] ""\n',
    )
    catalog = load_catalog(tmp_path)
    assert catalog.keys("en") == set()
    assert catalog.ngettext("en", "p", 1) == "1 人"
    assert catalog.script_message("en", "p") == {"other": "{n} 人"}
