"""Finding a Japanese font for raster slips and previews."""

from __future__ import annotations

import functools
from pathlib import Path

from PIL import ImageFont

from printers.errors import SlipRenderError

#: Debian/Ubuntu locations of fonts-noto-cjk, fonts-ipaexfont and fonts-ipafont, best first.
FONT_CANDIDATES: tuple[str, ...] = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-{weight}.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-{weight}.ttc",
    "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf",
    "/usr/share/fonts/truetype/ipaexfont-gothic/ipaexg.ttf",
    "/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf",
    "/usr/share/fonts/truetype/fonts-japanese-gothic.ttf",
)


def find_font(weight: str = "Regular", font_path: str | Path | None = None) -> Path:
    """The font file to use: `font_path` if given, else the first installed candidate."""
    if font_path is not None:
        path = Path(font_path)
        if not path.is_file():
            raise SlipRenderError(f"font file {path} does not exist")
        return path
    for pattern in FONT_CANDIDATES:
        path = Path(pattern.format(weight=weight))
        if path.is_file():
            return path
    raise SlipRenderError(
        "no Japanese font found; install fonts-noto-cjk or fonts-ipaexfont, or pass a font path"
    )


@functools.lru_cache(maxsize=64)
def load_font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    """A cached font object: loading a CJK collection costs tens of milliseconds."""
    # Index 0 of the Noto CJK collections is the Japanese face, whose glyph shapes (for example
    # 直 and 骨) differ from the Chinese and Korean ones; single-face files ignore the index.
    return ImageFont.truetype(str(path), size, index=0)
