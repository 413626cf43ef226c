"""Fixtures for the kiosk tests: the reprint store in a fresh state directory, a virtual printer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk import ReprintStore
from printers import VirtualPrinter


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "kiosk-state"


@pytest.fixture
def reprints(state_dir: Path) -> Iterator[ReprintStore]:
    with ReprintStore(state_dir) as store:
        yield store


@pytest.fixture
def printer(tmp_path: Path) -> Iterator[VirtualPrinter]:
    with VirtualPrinter(tmp_path / "slips", dots=384) as virtual:
        yield virtual
