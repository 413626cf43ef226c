"""Raster slips: GS v 0 bytes decoded back to an image, and the QR code read by zbarimg."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from escpos.printer import Dummy
from PIL import Image

from printers.decode import RasterImage, TextLine, decode_escpos
from printers.errors import SlipRenderError
from printers.raster import gs_v0
from printers.slip import SlipData, render_slip


def render(slip: SlipData, **options: object) -> bytes:
    printer = Dummy()
    render_slip(printer, slip, mode="raster", **options)  # type: ignore[arg-type]
    return printer.output


def stack(images: list[Image.Image]) -> Image.Image:
    page = Image.new("1", (max(i.width for i in images), sum(i.height for i in images)), 1)
    y = 0
    for image in images:
        page.paste(image, (0, y))
        y += image.height
    return page


@pytest.mark.parametrize(("width", "dots"), [(58, 384), (80, 576)])
def test_raster_slip_is_one_full_width_image_with_a_scannable_qr(
    make_slip: Callable[..., SlipData],
    zbar: Callable[[Image.Image | Path], list[str]],
    tmp_path: Path,
    width: int,
    dots: int,
) -> None:
    slip = make_slip()
    out = render(slip, width=width)
    # GS v 0, normal density, width in bytes (little endian): 48 or 72 bytes per row.
    assert b"\x1dv0\x00" + (dots // 8).to_bytes(2, "little") in out
    assert "練馬".encode("cp932") not in out and b"\x1c&" not in out  # no Kanji mode needed
    decoded = decode_escpos(out)
    assert not any(isinstance(e, TextLine) and e.text.strip() for e in decoded.elements)
    assert decoded.cuts == 1
    page = stack(decoded.images)  # tall slips come in several bands
    assert page.width == dots
    png = tmp_path / "slip.png"
    page.save(png)
    assert zbar(png) == [slip.status_url]


def test_a_route_s_end_adds_a_line(make_slip: Callable[..., SlipData]) -> None:
    def height(slip: SlipData) -> int:
        return stack(decode_escpos(render(slip)).images).height

    done = datetime(2026, 4, 1, 1, 35, tzinfo=UTC)
    assert height(make_slip(route_done_at=done)) > height(make_slip()) + 20


def test_number_is_large(make_slip: Callable[..., SlipData]) -> None:
    """The tallest run of black rows that is not the QR code is the number, ≥ 80 dots (1 cm)."""
    image = stack(decode_escpos(render(make_slip(display_number="88"))).images).convert("L")
    rows = [
        any(image.getpixel((x, y)) == 0 for x in range(image.width)) for y in range(image.height)
    ]
    bands, start = [], None
    for y, black in enumerate([*rows, False]):
        if black and start is None:
            start = y
        elif not black and start is not None:
            bands.append(y - start)
            start = None
    assert max(bands[:6]) >= 80, bands  # the QR comes later; the number is near the top


def test_gs_v0_round_trip_splits_tall_images_into_bands() -> None:
    rng = random.Random(7)
    source = Image.new("1", (203, 2000))  # an odd width must be padded with white, not black
    source.putdata([rng.choice((0, 255)) for _ in range(203 * 2000)])
    data = gs_v0(source)
    assert data.count(b"\x1dv0") >= 3  # printers limit the rows of one command
    images = [e.image for e in decode_escpos(data).elements if isinstance(e, RasterImage)]
    stacked = stack(images)
    assert stacked.size == (208, 2000)
    assert stacked.crop((0, 0, 203, 2000)).tobytes() == source.tobytes()
    assert stacked.crop((203, 0, 208, 2000)).getextrema() == (255, 255)  # padding is white


def test_missing_font_is_a_clear_error(make_slip: Callable[..., SlipData], tmp_path: Path) -> None:
    with pytest.raises(SlipRenderError, match="does not exist"):
        render(make_slip(), font_path=tmp_path / "nope.ttf")
