"""The independent decoder, on byte strings written by hand from the ESC/POS reference."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from printers.decode import Cut, QrCode, TextLine, command_length, decode_escpos


def test_shift_jis_text_needs_kanji_mode() -> None:
    sjis = "窓口".encode("cp932")
    assert decode_escpos(b"\x1b@\x1cC\x01\x1c&" + sjis + b"\n").text_lines == ["窓口"]
    # Without FS & the same bytes are single-byte characters, not kanji.
    assert decode_escpos(b"\x1b@" + sjis + b"\n").text_lines != ["窓口"]


def test_jis_code_system() -> None:
    # FS C 0: JIS; 窓 is 0x416B in JIS X 0208 (0xC1EB in EUC-JP minus 0x8080).
    assert decode_escpos(b"\x1cC\x00\x1c&\x41\x6b\n").text_lines == ["窓"]


def test_japan_character_set_prints_yen() -> None:
    assert decode_escpos(b"\x1bR\x08500\\\n").text_lines == ["500¥"]
    assert decode_escpos(b"500\\\n").text_lines == ["500\\"]


def test_sizes_bold_alignment_and_cuts() -> None:
    data = (
        b"\x1ba\x01\x1bE\x01\x1d!\x33"
        + b"12"
        + b"\x1d!\x00\x1bE\x00x\n\x1bd\x03\x1dVB\x00\x1dV\x01"
    )
    decoded = decode_escpos(data)
    line = decoded.elements[0]
    assert isinstance(line, TextLine) and line.align == "center"
    assert [(r.text, r.width, r.height, r.bold) for r in line.runs] == [
        ("12", 4, 4, True),
        ("x", 1, 1, False),
    ]
    assert [e.partial for e in decoded.elements if isinstance(e, Cut)] == [True, True]


def test_qr_store_and_print() -> None:
    payload = "https://example.jp/t/あ".encode()
    data = (
        b"\x1d(k\x04\x001A2\x00"  # model 2
        + b"\x1d(k\x03\x001C\x07"  # 7 dots per module
        + b"\x1d(k\x03\x001E3"  # level H
        + b"\x1d(k"
        + (len(payload) + 3).to_bytes(2, "little")
        + b"1P0"
        + payload
        + b"\x1d(k\x03\x001Q0"
    )
    assert decode_escpos(data).elements == [QrCode("https://example.jp/t/あ", 7, "H")]


def test_unknown_and_truncated_commands_are_skipped() -> None:
    decoded = decode_escpos(b"\x1b\x7fA\n\x1d\x99B\n\x1dv0\x00\x30\x00\x10")
    assert decoded.text_lines == ["A", "B"]
    assert any("truncated" in s for s in decoded.skipped)
    assert len(decoded.skipped) == 3


def test_status_queries_are_recorded_not_printed() -> None:
    decoded = decode_escpos(b"\x10\x04\x01\x10\x04\x04ok\n")
    assert decoded.status_queries == [1, 4]
    assert decoded.text_lines == ["ok"]


def test_command_length_of_a_raster_image_covers_its_data() -> None:
    data = b"\x1dv0\x00\x02\x00\x03\x00" + b"\x10\x04\x01" * 2
    assert command_length(data, 0) == len(data)  # DLE EOT look-alikes inside stay image data
    assert command_length(data[:-1], 0) is None


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes_never_crash(data: bytes) -> None:
    decoded = decode_escpos(data)
    assert isinstance(decoded.text_lines, list)
