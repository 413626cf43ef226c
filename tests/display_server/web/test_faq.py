"""The FAQ page: how many entries it found, in words that agree with the number."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

ENGLISH_COUNT = re.compile(r"^(\d+) (?:(entry|entries)|(result|results) for “.*”)$")


@pytest.mark.parametrize("params", [{"q": "保育"}, {"q": "zzzz"}, {"q": "印鑑"}, {}])
def test_the_count_agrees_with_its_noun_in_english(
    client: TestClient, params: dict[str, str]
) -> None:
    english = client.get("/faq", params={**params, "lang": "en"}).text
    found = re.search(r'<p id="faq-count">(.*?)</p>', english)
    assert found is not None
    line = ENGLISH_COUNT.fullmatch(found.group(1))
    assert line is not None, found.group(1)
    n, noun = int(line.group(1)), line.group(2) or line.group(3)
    assert noun in (("entry", "result") if n == 1 else ("entries", "results"))


def test_one_result_is_singular_and_japanese_has_one_form(client: TestClient) -> None:
    english = client.get("/faq", params={"q": "保育", "lang": "en"}).text
    assert '<p id="faq-count">1 result for “保育”</p>' in english
    japanese = client.get("/faq", params={"q": "保育", "lang": "ja"}).text
    assert '<p id="faq-count">「保育」の検索結果：1件</p>' in japanese
