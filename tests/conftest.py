"""Fixtures shared by all tests; the helpers behind them are in kernel.py."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from kernel import find_bpftool, mounted_bpffs


@pytest.fixture
def bpffs() -> Iterator[Path]:
    """A freshly mounted bpffs, unmounted and removed after the test."""
    with mounted_bpffs() as directory:
        yield directory


@pytest.fixture
def bpftool() -> str:
    """Path of the bpftool binary (skips, or fails under CI, if absent)."""
    return find_bpftool()
