"""An ESC/POS decoder: bytes a printer would receive → what it would print.

Written from the Epson ESC/POS command reference, independently of the slip renderers, so that
tests can check the renderers against it and the virtual printer can show what a real one would.
Unknown commands are skipped (and listed), truncated ones end the decoding; nothing raises.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field

from PIL import Image

from printers.commands import ESC, FS, GS, command_length

_JAPAN_ROMAN = {0x5C: "¥", 0x7E: "‾"}  # ESC R 8: JIS X 0201 Roman differs from ASCII in two


@dataclass(frozen=True)
class Run:
    """Characters printed with one style; `width`/`height` are the GS ! magnifications."""

    text: str
    width: int = 1
    height: int = 1
    bold: bool = False


@dataclass(frozen=True)
class TextLine:
    runs: tuple[Run, ...]
    align: str = "left"

    @property
    def text(self) -> str:
        return "".join(run.text for run in self.runs)


@dataclass(frozen=True)
class QrCode:
    payload: str
    module: int
    ec: str
    align: str = "left"


@dataclass(frozen=True)
class RasterImage:
    """A GS v 0 image in Pillow's 1-bit mode (black where the printer makes a dot)."""

    image: Image.Image
    align: str = "left"


@dataclass(frozen=True)
class Feed:
    dots: int


@dataclass(frozen=True)
class Cut:
    partial: bool


Element = TextLine | QrCode | RasterImage | Feed | Cut


@dataclass
class DecodedSlip:
    """Everything a byte stream prints, in order, plus what the decoder could not interpret."""

    elements: list[Element] = field(default_factory=list)
    status_queries: list[int] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    @property
    def text_lines(self) -> list[str]:
        return [e.text for e in self.elements if isinstance(e, TextLine)]

    @property
    def qr_payloads(self) -> list[str]:
        return [e.payload for e in self.elements if isinstance(e, QrCode)]

    @property
    def images(self) -> list[Image.Image]:
        return [e.image for e in self.elements if isinstance(e, RasterImage)]

    @property
    def cuts(self) -> int:
        return sum(isinstance(e, Cut) for e in self.elements)


class _Decoder:
    def __init__(self) -> None:
        self.out = DecodedSlip()
        self.reset()

    def reset(self) -> None:
        self.runs: list[Run] = []
        self.line_align = "left"
        self.align = "left"
        self.width = self.height = 1
        self.bold = self.kanji = self.japan = self.katakana = False
        self.shift_jis = False  # FS C: JIS is the power-on default
        self.qr_data = b""
        self.qr_module, self.qr_ec = 3, "L"

    def add_text(self, text: str) -> None:
        if not self.runs:
            self.line_align = self.align
        style = (self.width, self.height, self.bold)
        last = self.runs[-1] if self.runs else None
        if last is not None and (last.width, last.height, last.bold) == style:
            self.runs[-1] = Run(last.text + text, *style)
        else:
            self.runs.append(Run(text, *style))

    def flush(self, *, force: bool) -> None:
        if self.runs or force:
            self.out.elements.append(TextLine(tuple(self.runs), self.line_align))
        self.runs = []

    def text_bytes(self, data: bytes, i: int) -> int:
        """Decode the character at `data[i]`; return how many bytes it took."""
        b = data[i]
        nxt = data[i + 1] if i + 1 < len(data) else None
        if self.kanji and nxt is not None:
            if self.shift_jis and (0x81 <= b <= 0x9F or 0xE0 <= b <= 0xFC):
                self.add_text(data[i : i + 2].decode("cp932", errors="replace"))
                return 2
            if not self.shift_jis and 0x21 <= b <= 0x7E and 0x21 <= nxt <= 0x7E:
                pair = b"\x1b$B" + data[i : i + 2] + b"\x1b(B"
                self.add_text(pair.decode("iso2022_jp", errors="replace"))
                return 2
        if b < 0x20:
            if b == 0x0A:
                self.flush(force=True)
            elif b == 0x09:
                self.add_text(" ")
            elif b not in (0x0D, 0x00):
                self.out.skipped.append(f"control 0x{b:02x}")
        elif b < 0x80:
            self.add_text(_JAPAN_ROMAN.get(b, chr(b)) if self.japan else chr(b))
        elif (self.kanji or self.katakana) and 0xA1 <= b <= 0xDF:
            self.add_text(bytes((b,)).decode("cp932"))
        else:
            self.add_text(codecs.decode(bytes((b,)), "cp437"))
        return 1

    def command(self, cmd: bytes) -> None:
        first, letter = cmd[0], chr(cmd[1])
        arg = cmd[2] if len(cmd) > 2 else 0
        if first == ESC:
            self.esc(letter, arg, cmd)
        elif first == FS:
            if letter in "&.":
                self.kanji = letter == "&"
            elif letter == "C":
                self.shift_jis = arg in (1, 49)
            elif letter not in "!-W":
                self.out.skipped.append(f"FS {letter!r}")
        elif first == GS:
            self.gs(letter, arg, cmd)
        elif letter == "\x04":
            self.out.status_queries.append(arg)
        else:
            self.out.skipped.append(f"DLE 0x{cmd[1]:02x}")

    def esc(self, letter: str, arg: int, cmd: bytes) -> None:
        if letter == "@":
            self.flush(force=False)
            self.reset()
        elif letter == "!":
            self.bold = bool(arg & 0x08)
            self.width, self.height = 1 + bool(arg & 0x20), 1 + bool(arg & 0x10)
        elif letter == "E":
            self.bold = bool(arg & 1)
        elif letter == "a":
            self.align = {0: "left", 1: "center", 2: "right"}.get(arg % 48, "left")
        elif letter == "R":
            self.japan = arg == 8
        elif letter == "t":
            self.katakana = arg == 1
        elif letter in "dJ":
            had_text = bool(self.runs)
            self.flush(force=False)
            lines = arg - had_text if letter == "d" else 0
            dots = arg if letter == "J" else 0
            if lines > 0 or dots > 0:
                self.out.elements.append(Feed(dots + 30 * max(0, lines)))
        elif letter in "im":
            self.flush(force=False)
            self.out.elements.append(Cut(partial=letter == "m"))
        elif letter not in "-23GMU{ ":
            self.out.skipped.append(f"ESC {letter!r}")

    def gs(self, letter: str, arg: int, cmd: bytes) -> None:
        if letter == "!":
            self.width, self.height = (arg >> 4) + 1, (arg & 0x0F) + 1
        elif letter == "V":
            self.flush(force=False)
            self.out.elements.append(Cut(partial=arg in (1, 49, 66, 98, 104)))
        elif letter == "v":
            self.flush(force=False)
            self.out.elements.append(RasterImage(_raster(cmd), self.align))
        elif letter == "(" and cmd[2:3] and chr(cmd[1]) == "(" and cmd[5:6] == b"1":
            self.qr(cmd)
        else:
            self.out.skipped.append(f"GS {letter!r}")

    def qr(self, cmd: bytes) -> None:
        """GS ( k with cn = 49: QR code model, module size, error level, store, print."""
        if cmd[2:3] != b"k":
            self.out.skipped.append("GS ( (not k)")
            return
        fn, params = cmd[6], cmd[7:]
        if fn == 67 and params:
            self.qr_module = params[0]
        elif fn == 69 and params:
            self.qr_ec = {48: "L", 49: "M", 50: "Q", 51: "H"}.get(params[0], "?")
        elif fn == 80:
            self.qr_data = params[1:]  # params[0] is m = 48
        elif fn == 81:
            self.flush(force=False)
            payload = self.qr_data.decode("utf-8", errors="replace")
            self.out.elements.append(QrCode(payload, self.qr_module, self.qr_ec, self.align))


def _raster(cmd: bytes) -> Image.Image:
    m, x, y = cmd[3] % 48, int.from_bytes(cmd[4:6], "little"), int.from_bytes(cmd[6:8], "little")
    # In Pillow's 1-bit mode a set bit is white; in ESC/POS a set bit is a printed (black) dot.
    image = Image.frombytes("1", (x * 8, y), bytes(b ^ 0xFF for b in cmd[8:]))
    # m: bit 0 doubles the width, bit 1 the height (low-density modes).
    size = (x * 8 * (1 + (m & 1)), y * (1 + (m >> 1 & 1)))
    return image.resize(size, Image.Resampling.NEAREST)


def decode_escpos(data: bytes) -> DecodedSlip:
    """Decode an ESC/POS byte stream into text lines, QR codes, images, feeds and cuts."""
    decoder = _Decoder()
    i = 0
    while i < len(data):
        length = command_length(data, i)
        if length is None:
            decoder.out.skipped.append(f"truncated command at byte {i}")
            break
        if length == 1:
            i += decoder.text_bytes(data, i)
            continue
        decoder.command(data[i : i + length])
        i += length
    decoder.flush(force=False)
    return decoder.out
