"""Raster slips: the whole slip drawn with a Japanese font into a 1-bit image, sent as GS v 0.

This works on any ESC/POS printer, including the many non-Japanese models without kanji fonts.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import qrcode
from PIL import Image, ImageDraw, ImageFont

from printers.fonts import find_font, load_font
from printers.text import wrap

if TYPE_CHECKING:
    from printers.slip import SlipText

#: Rows per GS v 0 command; python-escpos' image() uses the same band height, which common
#: printers accept, and bands keep each command within small printers' receive buffers.
BAND_ROWS = 960
MARGIN = 8
_BLACK = 0
_WHITE = 255


class _Canvas:
    """A tall greyscale page that lines are stacked on; cropped to the used height at the end."""

    def __init__(self, dots: int, regular: Path, bold: Path) -> None:
        self.dots = dots
        self.scale = dots / 384  # sizes below are tuned for 58 mm paper and grow for 80 mm
        self.regular = regular
        self.bold = bold
        self.image = Image.new("L", (dots, 4000), _WHITE)
        self.draw = ImageDraw.Draw(self.image)
        self.y = MARGIN

    def font(self, px: float, *, bold: bool = False) -> ImageFont.FreeTypeFont:
        return load_font(self.bold if bold else self.regular, round(px * self.scale))

    def text(self, value: str, px: float, *, bold: bool = False) -> None:
        font = self.font(px, bold=bold)
        room = self.dots - 2 * MARGIN
        for line in wrap(value, lambda s: font.getlength(s) <= room):
            self.draw.text((self.dots // 2, self.y), line, font=font, fill=_BLACK, anchor="mt")
            self.y += round(font.size * 1.3)

    def big(self, value: str, px: float) -> None:
        """One line in the largest bold size (up to `px`) that fits the paper width."""
        font = self.font(px, bold=True)
        room = self.dots - 2 * MARGIN
        if font.getlength(value) > room:
            font = load_font(self.bold, max(8, int(font.size * room / font.getlength(value))))
        # Anchor at the digits' top ("mt" would add the font's ascender gap above them).
        _, top, _, bottom = font.getbbox(value, anchor="ls")
        self.draw.text((self.dots // 2, self.y - top), value, font=font, fill=_BLACK, anchor="ms")
        self.y += round(bottom - top + font.size * 0.2)

    def rule(self) -> None:
        self.y += 4
        self.draw.line((MARGIN, self.y, self.dots - MARGIN, self.y), fill=_BLACK, width=2)
        self.y += 10

    def paste(self, image: Image.Image) -> None:
        self.image.paste(image.convert("L"), ((self.dots - image.width) // 2, self.y))
        self.y += image.height

    def result(self) -> Image.Image:
        page = self.image.crop((0, 0, self.dots, self.y + MARGIN))
        return page.convert("1", dither=Image.Dither.NONE)


def slip_image(text: SlipText, dots: int, *, font_path: str | Path | None = None) -> Image.Image:
    """The slip as a 1-bit image `dots` wide (384 for 58 mm paper, 576 for 80 mm)."""
    regular = find_font("Regular", font_path)
    bold = find_font("Bold", None) if font_path is None else regular
    page = _Canvas(dots, regular, bold)
    page.text(text.site, 24)
    page.text(text.service, 32, bold=True)
    page.rule()
    page.text(text.number_label, 24)
    page.big(text.number, 150)
    page.rule()
    page.text(text.issued, 22)
    page.text(text.ahead, 26)
    page.text(text.wait, 26, bold=True)
    if text.route_end:
        page.text(text.route_end, 26, bold=True)
    page.y += 6
    page.paste(qr_image(text.url, max(2, round(5 * page.scale))))
    page.text(text.qr_caption, 20)
    page.y += 6
    page.text(text.guidance, 22, bold=True)
    if text.english:
        page.text(text.english, 20)
    return page.result()


def qr_image(url: str, module: int) -> Image.Image:
    """A 1-bit QR code (level M) with `module` dots per module and the standard quiet zone."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    code.add_data(url)
    code.make(fit=True)
    matrix = code.get_matrix()
    small = Image.new("1", (len(matrix), len(matrix)), 1)
    small.putdata([0 if dark else 1 for row in matrix for dark in row])
    return small.resize((small.width * module, small.height * module), Image.Resampling.NEAREST)


def gs_v0(image: Image.Image) -> bytes:
    """`GS v 0` commands (normal density) printing `image`, in bands of `BAND_ROWS` rows."""
    mono = image.convert("1", dither=Image.Dither.NONE)
    if mono.width % 8:
        # Rows are whole bytes: pad with white so the pad bits do not print as a black stripe.
        padded = Image.new("1", (mono.width + 8 - mono.width % 8, mono.height), 1)
        padded.paste(mono, (0, 0))
        mono = padded
    row_bytes = mono.width // 8
    # Pillow stores white as 1; ESC/POS prints a dot for 1, so every bit is inverted.
    data = bytes(b ^ 0xFF for b in mono.tobytes())
    out = bytearray()
    for top in range(0, mono.height, BAND_ROWS):
        rows = min(BAND_ROWS, mono.height - top)
        out += b"\x1dv0\x00" + row_bytes.to_bytes(2, "little") + rows.to_bytes(2, "little")
        out += data[top * row_bytes : (top + rows) * row_bytes]
    return bytes(out)
