"""Fixtures shared by all tests; the helpers behind them are in kernel.py."""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Iterator

import pytest

from kernel import find_bpftool, mounted_bpffs, require_root
from pybpfc.runtime.cgroup import TemporaryCgroup


@pytest.fixture
def bpffs() -> Iterator[Path]:
    """A freshly mounted bpffs, unmounted and removed after the test."""
    with mounted_bpffs() as directory:
        yield directory


@pytest.fixture
def cgroup() -> Iterator[TemporaryCgroup]:
    """A new cgroup below the cgroup v2 root, removed after the test."""
    require_root("attaching to a cgroup")
    with TemporaryCgroup() as cg:
        yield cg


@pytest.fixture
def bpftool() -> str:
    """Path of the bpftool binary (skips, or fails under CI, if absent)."""
    return find_bpftool()


# Programs loaded from now on belong to this test session (bpf_prog_info's
# load_time counts from boot); the residue check at the end uses it.
os.environ.setdefault("PYBPFC_TEST_SESSION_START_NS",
                      str(time.clock_gettime_ns(time.CLOCK_BOOTTIME)))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The residue checks run after every other test."""
    items.sort(key=lambda item: item.module.__name__ == "test_zz_no_residue"
               if item.module else False)
