"""Fixtures for the printers tests: a fixed slip and a virtual printer on an ephemeral port."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from printers.slip import SlipData
from printers.virtual import VirtualPrinter
from tests.zbar import decode_qr

URL = "https://madoguchi.example.jp/t/Xy7_abcDEF1234567890"


@pytest.fixture
def make_slip() -> Callable[..., SlipData]:
    """A factory for slips, issued at 09:05 in Tokyo."""

    def make(**changes: Any) -> SlipData:
        values: dict[str, Any] = {
            "site_name": "練馬区役所 本庁舎",
            "service_name": "住民票の写し",
            "display_number": "A-012",
            "issued_at": datetime(2026, 4, 1, 9, 5, tzinfo=ZoneInfo("Asia/Tokyo")),
            "ahead": 7,
            "est_wait_min": 10,
            "est_wait_max": 25,
            "status_url": URL,
        }
        values.update(changes)
        return SlipData(**values)

    return make


@pytest.fixture
def virtual_printer(tmp_path: Path) -> Iterator[VirtualPrinter]:
    with VirtualPrinter(tmp_path / "slips", dots=384) as printer:
        yield printer


@pytest.fixture
def zbar(tmp_path: Path) -> Callable[[Image.Image | Path], list[str]]:
    """Decode QR codes in an image or image file with zbarimg (`tests.zbar.decode_qr`)."""

    def scan(source: Image.Image | Path) -> list[str]:
        if isinstance(source, Path):
            return decode_qr(source)
        path = tmp_path / f"zbar-{time.monotonic_ns()}.png"
        # A white border: zbar needs a quiet zone around a code at the image edge.
        framed = Image.new("L", (source.width + 40, source.height + 40), 255)
        framed.paste(source.convert("L"), (20, 20))
        framed.save(path)
        return decode_qr(path)

    return scan


def wait_for(condition: Callable[[], bool], seconds: float = 3.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


@pytest.fixture
def eventually() -> Callable[[Callable[[], bool]], None]:
    return wait_for
