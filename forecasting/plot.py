"""A PNG heat map of one site's forecast: days × hours per service, coloured by crowding."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
from PIL import Image, ImageDraw, ImageFont

from forecasting.crowding import LEVELS, catalog
from forecasting.errors import DataError

__all__ = ["render_site_png"]

COLOURS = {"quiet": "#cfe8cf", "moderate": "#fff1a8", "busy": "#ffc58a", "very_busy": "#f08080"}
CLOSED = "#eeeeee"
CELL_W, CELL_H, LABEL_W, PAD = 40, 22, 110, 12
WEEKDAYS = {"ja": "月火水木金土日", "en": "MTWTFSS"}
#: Japanese labels need a CJK font; Debian's Noto CJK first, then Pillow's own (Latin only).
FONTS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/ipafont-gothic/ipagp.ttf",
)


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for path in FONTS:
        if Path(path).exists():
            return ImageFont.truetype(path, size)
    return ImageFont.load_default(size)


def render_site_png(forecast: pd.DataFrame, site: str, *, lang: str = "ja") -> bytes:
    """PNG bytes of the forecast rows of `site` (columns as `fit_all` returns them)."""
    rows = forecast[forecast["site"] == site]
    if rows.empty:
        raise DataError(f"no forecast for site {site!r}")
    messages = catalog()
    font, small = _font(14), _font(11)
    hour_start = pd.DatetimeIndex(rows["hour_start"])
    days = pd.date_range(hour_start.min().normalize(), hour_start.max().normalize(), freq="D")
    hours = list(range(int(hour_start.hour.min()), int(hour_start.hour.max()) + 1))
    services = sorted(rows["service"].unique())
    panel_h = CELL_H * (len(days) + 2) + PAD
    width = LABEL_W + CELL_W * len(hours) + 2 * PAD
    height = 70 + panel_h * len(services)
    image = Image.new("RGB", (max(width, 520), height), "white")
    draw = ImageDraw.Draw(image)
    title = messages.gettext(
        lang, "plot.title", site=site, start=days[0].date(), end=days[-1].date()
    )
    draw.text((PAD, PAD), title, fill="black", font=font)
    x = PAD
    for level in LEVELS:  # legend
        draw.rectangle((x, 40, x + 14, 54), fill=COLOURS[level], outline="grey")
        label = messages.gettext(lang, f"level.{level}")
        draw.text((x + 18, 40), label, fill="black", font=small)
        x += 28 + int(draw.textlength(label, font=small))
    weekday_names = WEEKDAYS.get(lang, WEEKDAYS["en"])
    for panel, service in enumerate(services):
        top = 70 + panel * panel_h
        cells = rows[rows["service"] == service].set_index("hour_start")
        draw.text((PAD, top), str(service), fill="black", font=font)
        for column, hour in enumerate(hours):
            left = PAD + LABEL_W + column * CELL_W
            draw.text(
                (left + 4, top + CELL_H),
                f"{hour}{messages.gettext(lang, 'plot.hour')}",
                fill="black",
                font=small,
            )
        for row, day in enumerate(days):
            y = top + CELL_H * (row + 2)
            label = f"{day:%m/%d} ({weekday_names[day.weekday()]})"
            draw.text((PAD, y + 3), label, fill="black", font=small)
            for column, hour in enumerate(hours):
                left = PAD + LABEL_W + column * CELL_W
                stamp = day + pd.Timedelta(hours=hour)
                box = (left, y, left + CELL_W - 2, y + CELL_H - 2)
                if stamp not in cells.index:
                    draw.rectangle(box, fill=CLOSED)
                    continue
                cell = cells.loc[stamp]
                draw.rectangle(box, fill=COLOURS[str(cell["level"])])
                draw.text((left + 4, y + 3), f"{cell['arrivals']:.0f}", fill="black", font=small)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
