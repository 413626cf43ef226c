"""The on-screen copy of the slip's QR code, drawn by the agent so the page needs no library."""

from __future__ import annotations

import re

import qrcode
import qrcode.image.svg


def qr_svg(data: str) -> str:
    """An inline SVG of `data` (level M, like the slip), scaling to its container."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2,
                         image_factory=qrcode.image.svg.SvgPathImage)
    code.add_data(data)
    code.make(fit=True)
    svg = code.make_image().to_string(encoding="unicode")
    # Drop the XML declaration and fixed size so that CSS sizes the code inside the page.
    svg = svg[svg.index("<svg"):]
    return re.sub(r' (width|height)="[^"]*"', "", svg, count=2).replace(
        "<svg", '<svg aria-hidden="true" focusable="false"', 1
    )
