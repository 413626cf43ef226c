"""Drawing a decoded slip as a printer would: the virtual printer's PNG output."""

from __future__ import annotations

from pathlib import Path

import qrcode
from PIL import Image, ImageDraw

from printers.decode import Cut, DecodedSlip, Feed, QrCode, RasterImage, Run, TextLine
from printers.fonts import find_font, load_font
from printers.text import columns

CELL_W, CELL_H = 12, 24  # ESC/POS Font A: half-width cell 12 × 24 dots, kanji 24 × 24


def render_preview(
    slip: DecodedSlip, *, dots: int = 576, font_path: str | Path | None = None
) -> Image.Image:
    """A white paper strip `dots` wide with everything `slip` prints, in order."""
    regular = find_font("Regular", font_path)
    bold = find_font("Bold", None) if font_path is None else regular
    blocks: list[tuple[Image.Image, str]] = []
    for element in slip.elements:
        if isinstance(element, TextLine):
            runs = [_run_image(run, regular, bold) for run in element.runs]
            height = max((r.height for r in runs), default=CELL_H)
            line = Image.new("L", (max(1, sum(r.width for r in runs)), height + 6), 255)
            x = 0
            for run_image in runs:
                line.paste(run_image, (x, height - run_image.height))  # runs share a baseline
                x += run_image.width
            blocks.append((line, element.align))
        elif isinstance(element, QrCode):
            blocks.append((_qr(element), element.align))
        elif isinstance(element, RasterImage):
            blocks.append((element.image.convert("L"), element.align))
        elif isinstance(element, Feed):
            blocks.append((Image.new("L", (1, element.dots), 255), "left"))
        elif isinstance(element, Cut):
            blocks.append((_cut_line(dots), "left"))
    page = Image.new("L", (dots, max(1, sum(b.height for b, _ in blocks))), 255)
    y = 0
    for block, align in blocks:
        x = {"center": (dots - block.width) // 2, "right": dots - block.width}.get(align, 0)
        page.paste(block, (max(0, x), y))
        y += block.height
    return page


def _run_image(run: Run, regular: Path, bold: Path) -> Image.Image:
    """One run drawn on the printer's fixed grid, stretched by its GS ! magnification."""
    font = load_font(bold if run.bold else regular, CELL_H - 2)
    width = max(1, columns(run.text) * CELL_W)
    cell = Image.new("L", (width, CELL_H), 255)
    draw = ImageDraw.Draw(cell)
    x = 0
    for char in run.text:
        step = columns(char) * CELL_W
        draw.text((x + step / 2, CELL_H - 4), char, font=font, fill=0, anchor="ms")
        x += step
    return cell.resize((width * run.width, CELL_H * run.height), Image.Resampling.NEAREST)


def _qr(code: QrCode) -> Image.Image:
    levels = {"L": 1, "M": 0, "Q": 3, "H": 2}  # qrcode's ERROR_CORRECT_* values
    made = qrcode.QRCode(error_correction=levels.get(code.ec, 0), box_size=code.module, border=4)
    made.add_data(code.payload)
    made.make(fit=True)
    matrix = made.get_matrix()
    small = Image.new("L", (len(matrix), len(matrix)), 255)
    small.putdata([0 if dark else 255 for row in matrix for dark in row])
    size = (small.width * code.module, small.height * code.module)
    return small.resize(size, Image.Resampling.NEAREST)


def _cut_line(dots: int) -> Image.Image:
    line = Image.new("L", (dots, 9), 255)
    draw = ImageDraw.Draw(line)
    for x in range(0, dots, 12):
        draw.line((x, 4, x + 6, 4), fill=0, width=1)
    return line
