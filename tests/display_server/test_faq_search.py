"""Japanese folding for the FAQ search: kana, width, case, partial words."""

from __future__ import annotations

import pytest

from display_server.faq_search import (
    katakana_to_hiragana,
    matches,
    normalise,
    query_terms,
    score,
    search_text,
)

ENTRY = search_text(["転入届に必要なもの", "転出証明書と本人確認書類"], ["てんにゅう", "ひっこし"])


@pytest.mark.parametrize(
    ("typed", "folded"),
    [
        ("テンニュウ", "てんにゅう"),
        ("ﾃﾝﾆｭｳ", "てんにゅう"),  # half-width katakana
        ("ＭｙＮｕｍｂｅｒ", "mynumber"),  # full-width Latin
        ("マイナンバーカード", "まいなんばかど"),  # the long-vowel mark is dropped
        ("  転入・転出　", "転入 転出"),  # ideographic space and middle dot separate words
        ("ヴ", "ゔ"),
    ],
)
def test_normalise(typed: str, folded: str) -> None:
    assert normalise(typed) == folded


def test_katakana_outside_the_shifted_range_is_kept() -> None:
    assert katakana_to_hiragana("ヷヺー") == "ヷヺー"


@pytest.mark.parametrize(
    "typed", ["てんにゅう", "テンニュウ", "ﾃﾝﾆｭｳ", "転入", "てんに", "転入 本人確認"]
)
def test_the_entry_is_found_however_it_is_typed(typed: str) -> None:
    assert matches(query_terms(typed), ENTRY)


@pytest.mark.parametrize("typed", ["ぜいきん", "転入 ぜいきん", "", "   ", "・"])
def test_other_words_and_empty_queries_do_not_match(typed: str) -> None:
    assert not matches(query_terms(typed), ENTRY)


def test_a_hit_in_the_title_ranks_above_one_in_the_body() -> None:
    title_hit = search_text(["転入届", "本文"], [])
    body_hit = search_text(["見出し", "転入届のあとで"], [])
    terms = query_terms("転入")
    assert score(terms, title_hit) > score(terms, body_hit) > 0


def test_queries_are_cut_to_a_bounded_length() -> None:
    assert len("".join(query_terms("あ" * 10_000))) == 100
