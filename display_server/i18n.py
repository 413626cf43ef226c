"""Message catalogues (gettext PO files read through Babel) and language negotiation.

Every package keeps its own catalogue folder (`<package>/locales/<lang>/LC_MESSAGES/*.po`, one
file per area of the package, merged),
with message ids as stable keys such as ``counter.call_next``. Japanese is the source language
and the fallback for every other one, so a catalogue that lacks a key still shows Japanese.

A message that shows a count has plural forms: ``msgid_plural "<key>.plural"`` and
``msgstr[0]``, ``msgstr[1]``…, as many as the ``Plural-Forms`` header of the language's files
says (Japanese one, English two). `Catalog.ngettext` picks the form with that header's
expression; this is the one plural rule on the server. Pages get a plural message as its forms
keyed by CLDR plural category (`Catalog.script_message`), and static/messages.js picks one with
the browser's ``Intl.PluralRules``, the one rule in the browser. `load_catalog` checks that a
header agrees with CLDR, so both sides choose the same form for every count.
"""

from __future__ import annotations

import functools
import gettext as _gettext
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from babel import Locale
from babel.messages.pofile import read_po

FALLBACK_LANGUAGE = "ja"
#: Languages whose catalogues are complete; others (zh, ko, vi, ne, ja-x-easy) fall back to ja.
SUPPORTED_LANGUAGES: tuple[str, ...] = ("ja", "en")
#: The browser half of this module: fills in exported messages and picks their plural forms.
BROWSER_HELPER = Path(__file__).parent / "web" / "static" / "messages.js"
#: The counts on which a `Plural-Forms` header is compared with CLDR's rule for its language.
CHECKED_COUNTS: tuple[int, ...] = (*range(1001), 10**6)

#: One message: its text, or its plural forms in the order of the language's `Plural-Forms`.
Message = str | tuple[str, ...]


class MissingMessageError(KeyError):
    """A message id exists in no catalogue, not even the fallback one."""


class PluralMismatchError(TypeError):
    """A message with plural forms was looked up without a count, or one without them with."""


class CatalogError(ValueError):
    """A catalogue file cannot be used: bad `Plural-Forms` or missing plural forms."""


@functools.cache
def _compile(expression: str) -> Callable[[int], int]:
    try:
        return _gettext.c2py(expression)
    except (ValueError, RecursionError) as exc:
        raise CatalogError(f"cannot read the plural expression {expression!r}") from exc


@dataclass(frozen=True)
class PluralRule:
    """One language's `Plural-Forms`: how many forms it has and which one a count takes."""

    nplurals: int
    #: The C expression of the header, e.g. ``(n != 1)``.
    expression: str = field(compare=False)
    #: CLDR plural category ("one", "other"…) → form index, for the browser's Intl.PluralRules.
    categories: Mapping[str, int]

    @classmethod
    def of(cls, lang: str, nplurals: int, expression: str) -> PluralRule:
        """The rule of a header, checked against CLDR's rule for `lang` on `CHECKED_COUNTS`."""
        form_of, category_of = _compile(expression), Locale.parse(lang).plural_form
        categories: dict[str, int] = {}
        for n in CHECKED_COUNTS:
            form, category = form_of(n), category_of(n)
            if not 0 <= form < nplurals:
                raise CatalogError(f"{lang}: plural={expression} gives form {form} for {n}")
            if categories.setdefault(category, form) != form:
                raise CatalogError(
                    f"{lang}: plural={expression} gives form {form} for {n} but form "
                    f"{categories[category]} for other counts of CLDR category {category!r}"
                )
        if set(categories.values()) != set(range(nplurals)):
            raise CatalogError(
                f"{lang}: nplurals={nplurals} but CLDR tells only "
                f"{len(set(categories.values()))} form(s) apart"
            )
        # Counts outside CHECKED_COUNTS (fractions in some languages) get the last, general form.
        categories.setdefault("other", nplurals - 1)
        return cls(nplurals, expression, categories)

    def form(self, n: int) -> int:
        """The index of the plural form that the count `n` takes."""
        return _compile(self.expression)(n)


@dataclass(frozen=True)
class Catalog:
    """All languages' messages of one package, and each language's plural rule."""

    messages: Mapping[str, Mapping[str, Message]]
    plural_rules: Mapping[str, PluralRule]

    def _lookup(self, lang: str, key: str) -> tuple[str, Message]:
        """The message `key` and the language it is in: `lang`, else Japanese."""
        for language in (lang, FALLBACK_LANGUAGE):
            message = self.messages.get(language, {}).get(key)
            if message:
                return language, message
        raise MissingMessageError(key)

    def gettext(self, lang: str, key: str, **params: object) -> str:
        """The message `key` in `lang` (falling back to Japanese), formatted with `params`."""
        _, message = self._lookup(lang, key)
        if not isinstance(message, str):
            raise PluralMismatchError(f"{key} has plural forms: look it up with a count")
        return message.format(**params) if params else message

    def ngettext(self, lang: str, key: str, n: int, /, **params: object) -> str:
        """The form of the plural message `key` that the count `n` takes in `lang` (falling
        back to Japanese), formatted with `params`; ``{n}`` is `n` unless `params` gives it."""
        language, message = self._lookup(lang, key)
        if isinstance(message, str):
            raise PluralMismatchError(f"{key} has no plural forms: look it up without a count")
        return message[self.plural_rules[language].form(n)].format(**{"n": n, **params})

    def script_message(self, lang: str, key: str) -> str | dict[str, str]:
        """The message `key` for a page's script (static/messages.js): its text, or for a
        plural message its forms keyed by CLDR category, e.g. ``{"one": …, "other": …}``."""
        language, message = self._lookup(lang, key)
        if isinstance(message, str):
            return message
        rule = self.plural_rules[language]
        return {category: message[form] for category, form in sorted(rule.categories.items())}

    def for_language(self, lang: str) -> Translator:
        """A callable bound to one language, for templates: ``_("key", name=…)``,
        ``_.ngettext("key", count)``."""
        return Translator(self, negotiate(lang))

    def keys(self, lang: str) -> set[str]:
        """The message ids that `lang` translates (used by completeness tests)."""
        return set(self.messages.get(lang, {}))

    def is_plural(self, key: str) -> bool:
        """Whether `key` has plural forms (in the fallback language, the source of every key)."""
        return isinstance(self.messages.get(FALLBACK_LANGUAGE, {}).get(key), tuple)


@dataclass(frozen=True)
class Translator:
    catalog: Catalog
    lang: str

    def __call__(self, key: str, **params: object) -> str:
        return self.catalog.gettext(self.lang, key, **params)

    def ngettext(self, key: str, n: int, /, **params: object) -> str:
        return self.catalog.ngettext(self.lang, key, n, **params)

    def script(self, key: str) -> str | dict[str, str]:
        return self.catalog.script_message(self.lang, key)


def negotiate(requested: str | None, available: Iterable[str] = SUPPORTED_LANGUAGES) -> str:
    """Pick a supported language from a tag or an Accept-Language header; Japanese if none fits."""
    if not requested:
        return FALLBACK_LANGUAGE
    choices = list(available)
    for part in requested.split(","):
        tag = part.split(";")[0].strip().lower()
        if not tag:
            continue
        if tag in choices:
            return tag
        primary = tag.split("-")[0]
        if primary in choices:
            return primary
    return FALLBACK_LANGUAGE


@functools.cache
def load_catalog(locales_dir: Path) -> Catalog:
    """Read and merge every `<lang>/LC_MESSAGES/*.po` below `locales_dir`.

    Raises CatalogError if a `Plural-Forms` header disagrees with CLDR or with another file of
    the same language, or a plural message lacks some of its language's forms.
    """
    messages: dict[str, dict[str, Message]] = {}
    rules: dict[str, PluralRule] = {}
    for po_path in sorted(locales_dir.glob("*/LC_MESSAGES/*.po")):
        lang = po_path.parent.parent.name
        with po_path.open("rb") as handle:
            catalog = read_po(handle, locale=None)
        rule = PluralRule.of(lang, catalog.num_plurals, catalog.plural_expr)
        if rules.setdefault(lang, rule) != rule:
            raise CatalogError(f"{po_path}: Plural-Forms differs from the other {lang} files")
        found = messages.setdefault(lang, {})
        for message in catalog:
            if not message.id:
                continue
            if isinstance(message.id, str):
                if message.string:
                    found[message.id] = str(message.string)
                continue
            strings = message.string
            key = str(message.id[0])
            forms = (strings,) if isinstance(strings, str) else tuple(map(str, strings or ()))
            if not any(forms):
                continue  # untranslated: the fallback language shows it
            if len(forms) != rule.nplurals or not all(forms):
                raise CatalogError(f"{po_path}: {key} needs {rule.nplurals} plural form(s)")
            found[key] = forms
    return Catalog(messages, rules)
