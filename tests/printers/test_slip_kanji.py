"""Kanji-mode slips through python-escpos' Dummy, checked with the independent decoder."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from escpos.printer import Dummy
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from display_server.i18n import load_catalog
from printers.decode import QrCode, TextLine, decode_escpos
from printers.slip import SlipData, render_slip

LOCALES = Path(__file__).parents[2] / "printers" / "locales"
COLUMNS = {58: 32, 80: 48}
ROUTE_DONE = datetime(2026, 4, 1, 10, 35, tzinfo=ZoneInfo("Asia/Tokyo"))


def render(slip: SlipData, **options: object) -> bytes:
    printer = Dummy()
    render_slip(printer, slip, **options)  # type: ignore[arg-type]
    return printer.output


def cols(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def test_stream_starts_with_japan_setup_and_ends_with_a_cut(
    make_slip: Callable[..., SlipData],
) -> None:
    out = render(make_slip())
    # ESC @, ESC R 8 (Japan), FS C 1 (Shift_JIS), then Kanji mode on before the first kanji.
    assert out.startswith(b"\x1b@\x1bR\x08\x1cC\x01")
    first_kanji = out.index("練馬".encode("cp932"))
    assert out.rfind(b"\x1c&", 0, first_kanji) > 0
    assert b"\x1c." in out[first_kanji:]
    assert out.endswith(b"\x1bd\x06\x1dV\x00")  # feed 6 lines, full cut


def test_site_service_and_number_are_shift_jis_text(make_slip: Callable[..., SlipData]) -> None:
    slip = make_slip(service_name="国民健康保険")
    out = render(slip)
    for text in ("練馬区役所", "国民健康保険", "A-012"):
        assert text.encode("cp932") in out
    lines = decode_escpos(out).text_lines
    assert "練馬区役所 本庁舎" in lines
    assert "国民健康保険" in lines
    assert "A-012" in lines


def test_number_is_the_largest_text_and_every_line_fits(make_slip: Callable[..., SlipData]) -> None:
    for width, lang in ((58, "ja"), (80, "ja"), (58, "en")):
        slip = make_slip(route_done_at=ROUTE_DONE, lang=lang)
        decoded = decode_escpos(render(slip, width=width))
        runs = [run for e in decoded.elements if isinstance(e, TextLine) for run in e.runs]
        number = next(run for run in runs if run.text == "A-012")
        assert number.height >= 4 and number.width >= 4, number
        assert all(run.height < number.height for run in runs if run is not number)
        for element in decoded.elements:
            if isinstance(element, TextLine):
                used = sum(cols(run.text) * run.width for run in element.runs)
                assert used <= COLUMNS[width], element


def test_time_ahead_and_wait_are_printed(make_slip: Callable[..., SlipData]) -> None:
    text = "\n".join(decode_escpos(render(make_slip())).text_lines)
    assert "09:05" in text and "2026" in text
    assert "7人" in text
    wait_line = next(line for line in text.splitlines() if "目安" in line)
    assert "10" in wait_line and "25" in wait_line and "分" in wait_line


@pytest.mark.parametrize("zone", ["Asia/Tokyo", "Europe/Warsaw", "UTC"])
def test_times_are_printed_in_the_offset_they_carry(
    make_slip: Callable[..., SlipData], zone: str
) -> None:
    # The server writes them in the office's zone; the kiosk does not know the zone.
    at = datetime(2026, 4, 1, 14, 20, tzinfo=ZoneInfo(zone))
    lines = decode_escpos(render(make_slip(issued_at=at, route_done_at=at))).text_lines
    assert any("14:20" in line and "2026" in line for line in lines)
    assert "全手続き終了の目安 14:20ごろ" in lines


def test_a_route_s_end_is_printed(make_slip: Callable[..., SlipData]) -> None:
    assert "全手続き終了の目安 10:35ごろ" in decode_escpos(
        render(make_slip(route_done_at=ROUTE_DONE))
    ).text_lines
    english = decode_escpos(render(make_slip(route_done_at=ROUTE_DONE, lang="en"))).text_lines
    assert "All steps done by about 10:35" in english
    assert not any("目安 " in line and "ごろ" in line for line in decode_escpos(
        render(make_slip())
    ).text_lines)


def test_wait_without_range_and_unknown(make_slip: Callable[..., SlipData]) -> None:
    about = decode_escpos(render(make_slip(est_wait_min=15, est_wait_max=15))).text_lines
    assert any("約15分" in line for line in about)
    unknown = decode_escpos(render(make_slip(est_wait_min=None, est_wait_max=None))).text_lines
    wait_line = next(line for line in unknown if "目安" in line)
    assert not any(ch.isdigit() for ch in wait_line)


def test_native_qr_carries_the_status_url(make_slip: Callable[..., SlipData]) -> None:
    slip = make_slip()
    out = render(slip)
    url = slip.status_url
    store = b"\x1d(k" + (len(url) + 3).to_bytes(2, "little") + b"1P0" + url.encode()
    assert store in out
    assert b"\x1d(k\x03\x001Q0" in out[out.index(store) :]  # print the stored symbol
    codes = [e for e in decode_escpos(out).elements if isinstance(e, QrCode)]
    assert [c.payload for c in codes] == [url]
    assert codes[0].ec == "M" and codes[0].module * 25 <= 384  # version 2+ still fits


def test_image_qr_fallback_scans(
    make_slip: Callable[..., SlipData], zbar: Callable[[Image.Image], list[str]]
) -> None:
    slip = make_slip()
    out = render(slip, qr="image")
    decoded = decode_escpos(out)
    assert b"\x1d(k" not in out and decoded.qr_payloads == []
    assert zbar(decoded.images[0]) == [slip.status_url]


def test_english_line_and_guidance(make_slip: Callable[..., SlipData]) -> None:
    out = render(
        make_slip(guidance="２番窓口へお越しください", english_line="Go to counter 2, please.")
    )
    lines = decode_escpos(out).text_lines
    assert "２番窓口へお越しください" in lines
    assert "Go to counter 2, please." in lines
    # The English line is written outside Kanji mode, in plain ASCII.
    assert out.index(b"Go to counter") > out.rindex(b"\x1c.")


def test_english_slip_uses_the_english_catalogue(make_slip: Callable[..., SlipData]) -> None:
    lines = decode_escpos(render(make_slip(lang="en-US"))).text_lines
    en = load_catalog(LOCALES).messages["en"]
    assert en["slip.number_label"] in lines
    assert "受付番号" not in lines
    assert sum("A-012" in line for line in lines) == 1  # no second English line


def test_unprintable_characters_become_geta(make_slip: Callable[..., SlipData]) -> None:
    lines = decode_escpos(render(make_slip(site_name="𠮷野家—出張所"))).text_lines
    assert "〓野家―出張所" in lines  # 𠮷 is outside Shift_JIS; an em dash has a JIS twin


def test_catalogues_are_complete() -> None:
    catalog = load_catalog(LOCALES)
    assert catalog.keys("ja") == catalog.keys("en")
    assert {"slip.number_label", "slip.ahead", "slip.wait_range", "slip.guidance"} <= catalog.keys(
        "ja"
    )


@pytest.mark.parametrize(
    "changes",
    [
        {"issued_at": datetime(2026, 4, 1, 9, 5)},
        {"ahead": -1},
        {"est_wait_min": 30, "est_wait_max": 10},
        {"display_number": " "},
        {"status_url": ""},
        {"route_done_at": datetime(2026, 4, 1, 10, 35)},
    ],
)
def test_bad_slip_data_is_rejected(
    make_slip: Callable[..., SlipData], changes: dict[str, object]
) -> None:
    with pytest.raises(ValueError):
        make_slip(**changes)


def test_bad_width_and_mode(make_slip: Callable[..., SlipData]) -> None:
    with pytest.raises(ValueError, match="58"):
        render(make_slip(), width=72)
    with pytest.raises(ValueError, match="mode"):
        render(make_slip(), mode="pdf")


JAPANESE = st.text(
    alphabet=st.sampled_from(
        "あいうえおかきくけこアイウエオ練馬区役所光が丘石神井大泉関町ABCxyz0123"
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=40, deadline=None)
@given(site=JAPANESE, service=JAPANESE)
def test_any_names_round_trip(site: str, service: str) -> None:
    url = "https://example.jp/t/x"
    slip = SlipData(site, service, "B-7", datetime(2026, 1, 5, tzinfo=UTC), 0, None, None, url)
    lines = decode_escpos(render(slip, width=58)).text_lines
    joined = "".join(lines)
    assert site in joined and service in joined
    assert all(cols(line) <= 32 for line in lines if "B-7" not in line)
