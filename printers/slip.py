"""Slip content and its two ESC/POS renderings: Kanji mode (Shift_JIS) and a raster image.

python-escpos cannot print kanji (its katakana table drops them and it treats cp932 as a
single-byte code page), so the Japanese text is written with `_raw` in both modes.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

import qrcode
from escpos.escpos import Escpos

from display_server.i18n import Catalog, load_catalog, negotiate
from printers import raster
from printers.text import columns, to_cp932, wrap

Mode = Literal["kanji", "raster"]
QrMode = Literal["native", "image"]
MODES: tuple[Mode, ...] = ("kanji", "raster")
WIDTHS_MM: dict[int, int] = {58: 384, 80: 576}  # paper width → printable dots at 203 dpi
LOCALES = Path(__file__).parent / "locales"

ESC_INIT = b"\x1b@"
ESC_R_JAPAN = b"\x1bR\x08"  # international set Japan: 0x5C prints as ¥
FS_C_SHIFT_JIS = b"\x1cC\x01"
FS_KANJI_ON = b"\x1c&"
FS_KANJI_OFF = b"\x1c."
ALIGN_CENTER = b"\x1ba\x01"
ALIGN_LEFT = b"\x1ba\x00"
BOLD_ON = b"\x1bE\x01"
BOLD_OFF = b"\x1bE\x00"
LF = b"\n"


def size(mag: int) -> bytes:
    """GS ! with the same width and height magnification (1-8)."""
    return b"\x1d!" + bytes((((mag - 1) << 4) | (mag - 1),))


@dataclass(frozen=True)
class SlipData:
    """What a ticket slip shows. Times must carry a UTC offset and are printed in it: the
    server writes them in the office's time zone (`views.office_time`)."""

    site_name: str
    service_name: str
    display_number: str
    issued_at: datetime
    ahead: int
    est_wait_min: int | None
    est_wait_max: int | None
    status_url: str
    lang: str = "ja"
    guidance: str | None = None
    english_line: str | None = None
    #: When a route of several services should be through (the ticket's `est_route_done_at`).
    route_done_at: datetime | None = None

    def __post_init__(self) -> None:
        if self.issued_at.utcoffset() is None:
            raise ValueError("SlipData.issued_at must be timezone-aware")
        if self.route_done_at is not None and self.route_done_at.utcoffset() is None:
            raise ValueError("SlipData.route_done_at must be timezone-aware")
        if not self.display_number.strip():
            raise ValueError("SlipData.display_number must not be empty")
        if not self.status_url:
            raise ValueError("SlipData.status_url must not be empty (the QR code needs it)")
        if self.ahead < 0:
            raise ValueError(f"SlipData.ahead must be >= 0, not {self.ahead}")
        waits = [m for m in (self.est_wait_min, self.est_wait_max) if m is not None]
        if any(m < 0 for m in waits) or (len(waits) == 2 and waits[0] > waits[1]):
            raise ValueError(
                f"bad wait range {self.est_wait_min}..{self.est_wait_max}: need 0 <= min <= max"
            )


@dataclass(frozen=True)
class SlipText:
    """Every line of a slip, already translated; both renderers lay out the same text."""

    site: str
    service: str
    number_label: str
    number: str
    issued: str
    ahead: str
    wait: str
    route_end: str | None
    qr_caption: str
    guidance: str
    english: str | None
    url: str


def catalog() -> Catalog:
    """The printers package's message catalogue (Japanese and English)."""
    return load_catalog(LOCALES)


def slip_text(slip: SlipData, *, messages: Catalog | None = None) -> SlipText:
    """Translate and format a slip's lines in its language."""
    cat = messages or catalog()
    lang = negotiate(slip.lang)

    def _(key: str, **params: object) -> str:
        return cat.gettext(lang, key, **params)

    lo, hi = slip.est_wait_min, slip.est_wait_max
    if lo is None and hi is None:
        wait = _("slip.wait_unknown")
    elif lo is None or hi is None or lo == hi:
        wait = _("slip.wait_about", minutes=hi if lo is None else lo)
    else:
        wait = _("slip.wait_range", lo=lo, hi=hi)
    english = slip.english_line
    if english is None and lang != "en":
        english = cat.gettext("en", "slip.english_line", number=slip.display_number)
    return SlipText(
        site=slip.site_name,
        service=slip.service_name,
        number_label=_("slip.number_label"),
        number=slip.display_number,
        issued=_("slip.issued_at", at=slip.issued_at),
        ahead=_("slip.ahead", ahead=slip.ahead) if slip.ahead else _("slip.ahead_none"),
        wait=wait,
        route_end=(
            _("slip.route_end", at=slip.route_done_at)
            if slip.route_done_at else None
        ),
        qr_caption=_("slip.qr_caption"),
        guidance=slip.guidance if slip.guidance is not None else _("slip.guidance"),
        english=english or None,
        url=slip.status_url,
    )


def render_slip(
    printer: Escpos,
    slip: SlipData,
    *,
    mode: Mode = "kanji",
    width: int = 58,
    qr: QrMode = "native",
    font_path: str | Path | None = None,
) -> None:
    """Write a complete slip (initialise … cut) to `printer`.

    `width` is the paper width in mm (58 or 80). In raster mode the whole slip, QR code included,
    is one image, so `qr` only matters in Kanji mode; `font_path` only in raster mode.
    """
    if width not in WIDTHS_MM:
        raise ValueError(f"paper width must be one of {sorted(WIDTHS_MM)} mm, not {width}")
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
    text = slip_text(slip)
    dots = WIDTHS_MM[width]
    printer._raw(ESC_INIT)
    if mode == "kanji":
        _render_kanji(printer, text, dots, qr)
    else:
        image = raster.slip_image(text, dots, font_path=font_path)
        printer._raw(ALIGN_CENTER + raster.gs_v0(image) + ALIGN_LEFT)
    printer.cut()


def _render_kanji(printer: Escpos, text: SlipText, dots: int, qr: QrMode) -> None:
    cols = dots // 12  # Font A is 12 × 24 dots; a kanji takes two columns

    def lines(value: str, mag: int = 1) -> None:
        for line in wrap(value, lambda s: columns(s) * mag <= cols):
            printer._raw(to_cp932(line) + LF)

    printer._raw(ESC_R_JAPAN + FS_C_SHIFT_JIS + ALIGN_CENTER + FS_KANJI_ON)
    lines(text.site)
    printer._raw(BOLD_ON + size(2))
    lines(text.service, 2)
    printer._raw(size(1) + BOLD_OFF + LF)
    lines(text.number_label)
    # The number is what visitors compare with the lobby screen: as large as the paper allows.
    mag = max(1, min(8, cols // max(1, columns(text.number))))
    printer._raw(BOLD_ON + size(mag) + to_cp932(text.number) + LF + size(1) + BOLD_OFF)
    lines(text.issued)
    lines(text.ahead)
    printer._raw(BOLD_ON)
    lines(text.wait)
    if text.route_end:
        lines(text.route_end)
    printer._raw(BOLD_OFF + LF)
    module = _qr_module_dots(text.url, dots)
    if qr == "native":
        printer.qr(text.url, ec=1, size=module, native=True)  # ec=1: level M
        printer._raw(LF)
    else:
        printer._raw(raster.gs_v0(raster.qr_image(text.url, module)))
    lines(text.qr_caption)
    lines(text.guidance)
    printer._raw(FS_KANJI_OFF)
    if text.english:
        # Outside Kanji mode only ASCII is safe: accents are stripped, the rest becomes "?".
        bare = "".join(
            c for c in unicodedata.normalize("NFKD", text.english) if not unicodedata.combining(c)
        )
        ascii_text = bare.encode("ascii", "replace").decode()
        for line in wrap(ascii_text, lambda s: len(s) <= cols):
            printer._raw(line.encode("ascii") + LF)
    printer._raw(ALIGN_LEFT)


def _qr_module_dots(url: str, dots: int) -> int:
    """Dots per QR module: large for easy scanning, yet the code fits in 60 % of the width."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    code.add_data(url)
    # best_fit() only picks the symbol version; make() would also try all eight masks (~15 ms).
    modules = code.best_fit() * 4 + 17 + 8  # version v has 4v + 17 modules; quiet zone 4 + 4
    return max(1, min(8, int(dots * 0.6) // modules))
