"""Fixtures of the browser tests (see tests/e2e/browser.py); every test here is `browser`."""

from __future__ import annotations

import pytest

from tests.e2e.browser import browser, live_server, page

__all__ = ["browser", "live_server", "page"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.path):
            item.add_marker(pytest.mark.browser)
