"""Server-rendered SVG charts: no JavaScript, readable at any zoom, accessible.

Each chart is an `<svg role="img">` named by its `<title>` and described by a `<desc>` that
states the largest value; pages put the same numbers in a data table next to it, since a
screen reader cannot read bars.
"""

from __future__ import annotations

import itertools
import math
import unicodedata
from collections.abc import Sequence

from markupsafe import Markup, escape

BAR, MARK, GRID, INK = "#0b5cad", "#a4161a", "#c9ced6", "#1a1a1a"
_ids = itertools.count(1)


def axis(value: float, lines: int = 4) -> tuple[float, int]:
    """A tidy axis for values up to `value`: (step, count) with step 1, 2, 2.5 or 5 × 10^k and
    count ≤ `lines` gridlines above zero, so tick labels are round numbers."""
    if value <= 0:
        return 1.0, 1
    rough = value / lines
    power = 10 ** math.floor(math.log10(rough))
    step = next(s * power for s in (1, 2, 2.5, 5, 10) if s * power >= rough)
    return step, max(1, math.ceil(value / step - 1e-9))


def _char_width(ch: str, size: int) -> float:
    """Wide CJK characters take a full em, others a little over half (no font metrics here)."""
    return size if unicodedata.east_asian_width(ch) in "WF" else size * 0.6


def _width(text: str, size: int) -> float:
    return sum(_char_width(ch, size) for ch in text)


def _fit(label: str, pixels: float, size: int) -> str:
    """Cut `label` with … so it fits `pixels`."""
    used = 0.0
    for i, ch in enumerate(label):
        used += _char_width(ch, size)
        if used > pixels:
            return label[: max(i - 1, 1)] + "…"
    return label


def _number(value: float) -> str:
    return f"{value:.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"


def _frame(title: str, desc: str, width: int, height: int, body: list[str]) -> Markup:
    uid = f"chart{next(_ids)}"
    return Markup(
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" '
        f'aria-labelledby="{uid}-t {uid}-d" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{uid}-t">{escape(title)}</title><desc id="{uid}-d">{escape(desc)}</desc>'
        + "".join(body)
        + "</svg>"
    )


def bar_chart(
    title: str,
    desc: str,
    labels: Sequence[str],
    values: Sequence[float | None],
    *,
    marks: Sequence[float | None] | None = None,
    legend: Sequence[str] = (),
    width: int = 480,
    height: int = 240,
) -> Markup:
    """Vertical bars (one per label); optional `marks` draw a tick per bar (e.g. the 90th
    percentile over the mean); `legend` names the bars and then the marks."""
    left, right, top, bottom = 44, 8, 30 if legend else 12, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    step, count = axis(max([v or 0 for v in (*values, *(marks or ()))], default=0))
    peak = step * count
    slot = plot_w / max(len(labels), 1)
    every = max(1, math.ceil(len(labels) / 10))  # at most 10 labels, so text never overlaps
    body: list[str] = []
    for i in range(count + 1):
        y = top + plot_h - plot_h * i / count
        body.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>'
        )
        body.append(
            f'<text x="{left - 6}" y="{y + 5:.1f}" text-anchor="end" font-size="14" '
            f'fill="{INK}">{_number(step * i)}</text>'
        )
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        x = left + slot * i
        if value:
            h = plot_h * value / peak
            bar = min(slot * 0.7, 48)  # a lone bar stays a bar, not a block
            body.append(
                f'<rect x="{x + (slot - bar) / 2:.1f}" y="{top + plot_h - h:.1f}" '
                f'width="{bar:.1f}" height="{h:.1f}" fill="{BAR}"/>'
            )
        mark = marks[i] if marks else None
        if mark:
            y = top + plot_h - plot_h * mark / peak
            body.append(
                f'<line x1="{x + slot * 0.05:.1f}" x2="{x + slot * 0.95:.1f}" '
                f'y1="{y:.1f}" y2="{y:.1f}" stroke="{MARK}" stroke-width="3"/>'
            )
        if i % every == 0:
            body.append(
                f'<text x="{x + slot / 2:.1f}" y="{height - bottom + 20}" font-size="14" '
                f'text-anchor="middle" fill="{INK}">{escape(label)}</text>'
            )
    x = float(left)
    for name, colour in zip(legend, (BAR, MARK), strict=False):
        body.append(
            f'<rect x="{x:.0f}" y="6" width="14" height="14" fill="{colour}"/>'
            f'<text x="{x + 20:.0f}" y="19" font-size="14" fill="{INK}">{escape(name)}</text>'
        )
        x += 20 + _width(name, 14) + 16
    return _frame(title, desc, width, height, body)


def hbar_chart(
    title: str,
    desc: str,
    labels: Sequence[str],
    values: Sequence[float | None],
    *,
    unit: str = "",
    width: int = 480,
) -> Markup:
    """Horizontal bars for long labels such as Japanese service names, value at the bar's end."""
    row, label_w, top = 32, 200, 6
    height = top * 2 + row * max(len(labels), 1)
    step, count = axis(max([v or 0 for v in values], default=0))
    peak = step * count
    plot_w = width - label_w - 70
    body: list[str] = []
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = top + row * i
        body.append(
            f'<text x="{label_w - 8}" y="{y + 20}" text-anchor="end" font-size="14" '
            f'fill="{INK}">{escape(_fit(label, label_w - 12, 14))}</text>'
        )
        w = plot_w * (value or 0) / peak
        body.append(
            f'<rect x="{label_w}" y="{y + 5}" width="{w:.1f}" height="{row - 10}" fill="{BAR}"/>'
        )
        text = "–" if value is None else f"{value:.1f}{unit}"
        body.append(
            f'<text x="{label_w + w + 6:.1f}" y="{y + 21}" font-size="14" '
            f'fill="{INK}">{escape(text)}</text>'
        )
    return _frame(title, desc, width, height, body)
