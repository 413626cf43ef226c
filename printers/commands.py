"""Where each ESC/POS command ends: the tokenizer under the decoder and the virtual printer.

Lengths follow the Epson ESC/POS command reference; an unknown command is taken as its two
prefix bytes, so the rest of the stream still decodes.
"""

from __future__ import annotations

ESC, FS, GS, DLE = 0x1B, 0x1C, 0x1D, 0x10
#: Commands whose length is fixed, by prefix byte and command letter (total bytes).
_FIXED = {
    ESC: {
        **dict.fromkeys(b"@2<FLSTi m", 2),
        **dict.fromkeys(b"!-3=?%EGJMRUVadeKtr{ cT", 3),
        **dict.fromkeys(b"$\\", 4),
        ord("p"): 5,
        ord("W"): 10,
    },
    FS: {**dict.fromkeys(b"&.", 2), **dict.fromkeys(b"!-CW", 3), **dict.fromkeys(b"Sp", 4)},
    GS: {
        **dict.fromkeys(b":", 2),
        **dict.fromkeys(b"!BHIabfhwrT/", 3),
        **dict.fromkeys(b"LW$\\P", 4),
    },
}


def command_length(data: bytes | bytearray, i: int) -> int | None:
    """Bytes taken by the command or character at `data[i]`; None if the data ends inside it.

    Text bytes count one each: no Shift_JIS byte is a control code, so a two-byte character never
    hides a command boundary.
    """
    first = data[i]
    if first not in (ESC, FS, GS, DLE):
        return 1
    if i + 1 >= len(data):
        return None
    letter = data[i + 1]
    length = _FIXED.get(first, {}).get(letter) or _variable_length(data, i, first, letter)
    return None if length is None or i + length > len(data) else length


def _variable_length(data: bytes | bytearray, i: int, first: int, letter: int) -> int | None:
    def byte(k: int) -> int | None:
        return data[i + k] if i + k < len(data) else None

    def le(k: int, n: int) -> int | None:
        return int.from_bytes(data[i + k : i + k + n], "little") if i + k + n <= len(data) else None

    command = (first, chr(letter))
    if first == DLE:
        n = byte(2)
        if chr(letter) == "\x14":  # DLE DC4 fn …: real-time pulse, power off, buffer clear
            return {None: None, 7: 4, 8: 10}.get(n, 5)
        return None if n is None else 4 if (letter, n) in ((4, 7), (4, 8)) else 3
    if command in ((GS, "("), (FS, "(")):  # GS ( k, GS ( L, …: pL pH give the length
        size = le(3, 2)
        return None if size is None else 5 + size
    if command == (GS, "8"):  # GS 8 L p1..p4
        size = le(3, 4)
        return None if size is None else 7 + size
    if command == (GS, "v"):  # GS v 0 m xL xH yL yH d1…dk
        x, y = le(4, 2), le(6, 2)
        return None if x is None or y is None else 8 + x * y
    if command == (GS, "V"):
        m = byte(2)
        return None if m is None else 3 if m in (0, 1, 48, 49) else 4
    if command == (GS, "k"):
        m = byte(2)
        if m is None or m > 6:
            n = byte(3)
            return None if n is None else 4 + n
        end = data.find(b"\x00", i + 3)
        return None if end < 0 else end - i + 1
    if command == (GS, "*"):
        x, y = byte(2), byte(3)
        return None if x is None or y is None else 4 + x * y * 8
    if command == (ESC, "*"):
        m, n = byte(2), le(3, 2)
        return None if m is None or n is None else 5 + (n if m in (0, 1) else 3 * n)
    if command in ((ESC, "D"), (ESC, "B")):  # NUL-terminated lists
        end = data.find(b"\x00", i + 2)
        return None if end < 0 else end - i + 1
    if command == (FS, "2"):  # user-defined kanji: c1 c2 + 72 bytes (24 × 24 dots)
        return 76
    return 2  # unknown: skip the prefix and the letter; the rest decodes as text or commands
