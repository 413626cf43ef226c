"""Japanese-aware FAQ matching: fold what people type so that てんにゅう, テンニュウ, ﾃﾝﾆｭｳ and
転入 all find the same entry.

Kanji cannot be turned into kana without a dictionary, so every entry stores its readings
(`readings = ["てんにゅう", …]`) next to its texts; the search text of an entry is its texts and
readings, folded the same way as the query, and a query matches when every word of it is a
substring of that text (partial words work: てんに finds てんにゅう).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

#: Katakana ァ (U+30A1) … ヶ (U+30F6) sit exactly 0x60 above their hiragana; ヷ–ヺ have none.
_KATA_START, _KATA_END, _SHIFT = 0x30A1, 0x30F6, 0x60
_SPACES = re.compile(r"[\s\u3000・、。，．,.!?！？「」『』（）()\[\]【】/／:：;；\"'~〜-]+")
#: Queries longer than this are cut: nobody types more, and it bounds the work per request.
MAX_QUERY = 100


def katakana_to_hiragana(text: str) -> str:
    return "".join(
        chr(ord(ch) - _SHIFT) if _KATA_START <= ord(ch) <= _KATA_END else ch for ch in text
    )


def normalise(text: str) -> str:
    """NFKC (full/half width, ﾃﾝ → テン), katakana → hiragana, lower case, punctuation → space.

    The long-vowel mark ー is dropped, so カード, かーど and かど all fold to かど (people
    write a reading either way)."""
    folded = katakana_to_hiragana(unicodedata.normalize("NFKC", text)).casefold()
    folded = folded.replace("ー", "")
    return _SPACES.sub(" ", folded).strip()


def search_text(texts: Iterable[str], readings: Iterable[str]) -> str:
    """What an entry is matched against: its texts and readings, folded, one per line."""
    return "\n".join(normalise(t) for t in (*texts, *readings) if t.strip())


def query_terms(query: str) -> list[str]:
    """The folded words of a query; empty when nothing searchable was typed."""
    return normalise(query[:MAX_QUERY]).split()


def matches(terms: list[str], text: str) -> bool:
    """Every term occurs somewhere in `text` (the entry's search text)."""
    return bool(terms) and all(term in text for term in terms)


def score(terms: list[str], text: str) -> int:
    """Rank for matching entries: more occurrences first, a hit on the first line counts double."""
    first_line = text.split("\n", 1)[0]
    return sum(text.count(term) + first_line.count(term) for term in terms)
