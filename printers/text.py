"""Japanese text helpers shared by the two slip modes: line width, wrapping and Shift_JIS."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

#: Characters that Python's cp932 codec rejects but that have an obvious Shift_JIS twin; the
#: em dash comes from Western keyboards and macOS text in place of the horizontal bar.
_CP932_TWINS = str.maketrans({"\u2014": "\u2015", "\u00a0": " "})
#: 〓 (geta) is the conventional Japanese mark for "a character this device cannot print".
GETA = "〓"
#: A line must not begin with these (kinsoku shori), so they stay with the preceding token.
_NO_LINE_START = set(
    "、。，．,.)）」』】〕〉》・ー！？!?:：;；ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ"
)
#: Latin words stay whole; every other character (kana, kanji, punctuation) may break.
_TOKEN = re.compile(r"[A-Za-z0-9@#$%&*+\-=/:.,'\"()?!_~]+ *| +|.", re.DOTALL)


def char_columns(char: str) -> int:
    """Half-width columns a character takes on a receipt printer (kanji and kana take two)."""
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def columns(text: str) -> int:
    """Half-width columns `text` takes."""
    return sum(char_columns(char) for char in text)


def wrap(text: str, fits: Callable[[str], bool]) -> list[str]:
    """Split `text` into lines that each satisfy `fits`, breaking between words or CJK characters.

    A token that fits on no line by itself (a very long URL) is split character by character.
    """
    tokens: list[str] = []
    for token in _TOKEN.findall(text):
        if tokens and token[0] in _NO_LINE_START:
            tokens[-1] += token
        else:
            tokens.append(token)
    lines: list[str] = []
    current = ""
    for token in tokens:
        if fits(current + token.rstrip()):
            current += token
            continue
        if current.strip():
            lines.append(current.rstrip())
        current = token.lstrip()
        while current and not fits(current.rstrip()):
            cut = next((i for i in range(len(current), 1, -1) if fits(current[:i])), 1)
            lines.append(current[:cut])
            current = current[cut:]
    if current.strip():
        lines.append(current.rstrip())
    return lines or [""]


def to_cp932(text: str) -> bytes:
    """Shift_JIS (Windows-31J) bytes for Kanji mode; unprintable characters become 〓."""
    return "".join(_printable(char) for char in text.translate(_CP932_TWINS)).encode("cp932")


def _printable(char: str) -> str:
    try:
        char.encode("cp932")
    except UnicodeEncodeError:
        return GETA
    # Control characters would be taken as ESC/POS commands by the printer.
    return char if unicodedata.category(char) != "Cc" else " "
