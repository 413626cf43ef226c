"""Message catalogues (gettext PO files read through Babel) and language negotiation.

Every package keeps its own catalogue folder (`<package>/locales/<lang>/LC_MESSAGES/*.po`, one
file per area of the package, merged),
with message ids as stable keys such as ``counter.call_next``. Japanese is the source language
and the fallback for every other one, so a catalogue that lacks a key still shows Japanese.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from babel.messages.pofile import read_po

FALLBACK_LANGUAGE = "ja"
#: Languages whose catalogues are complete; others (zh, ko, vi, ne, ja-x-easy) fall back to ja.
SUPPORTED_LANGUAGES: tuple[str, ...] = ("ja", "en")


class MissingMessageError(KeyError):
    """A message id exists in no catalogue, not even the fallback one."""


@dataclass(frozen=True)
class Catalog:
    """All languages' messages of one package."""

    messages: Mapping[str, Mapping[str, str]]

    def gettext(self, lang: str, key: str, **params: object) -> str:
        """The message `key` in `lang` (falling back to Japanese), formatted with `params`."""
        text = self.messages.get(lang, {}).get(key) or self.messages.get(FALLBACK_LANGUAGE, {}).get(
            key
        )
        if text is None:
            raise MissingMessageError(key)
        return text.format(**params) if params else text

    def for_language(self, lang: str) -> Translator:
        """A callable bound to one language, for templates: ``_("key", n=3)``."""
        return Translator(self, negotiate(lang))

    def keys(self, lang: str) -> set[str]:
        """The message ids that `lang` translates (used by completeness tests)."""
        return set(self.messages.get(lang, {}))


@dataclass(frozen=True)
class Translator:
    catalog: Catalog
    lang: str

    def __call__(self, key: str, **params: object) -> str:
        return self.catalog.gettext(self.lang, key, **params)


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
    """Read and merge every `<lang>/LC_MESSAGES/*.po` below `locales_dir`."""
    messages: dict[str, dict[str, str]] = {}
    for po_path in sorted(locales_dir.glob("*/LC_MESSAGES/*.po")):
        lang = po_path.parent.parent.name
        with po_path.open("rb") as handle:
            catalog = read_po(handle, locale=None)
        messages.setdefault(lang, {}).update(
            (str(message.id), str(message.string))
            for message in catalog
            if message.id and message.string
        )
    return Catalog(messages)
