"""Fixtures shared by all tests; the helpers behind them are in kernel.py."""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Iterator

import pytest

from tests.support import (BPFFS_BEFORE_SESSION, CGROUPS_APPEARED_DURING,
                           CGROUPS_BEFORE_SESSION, find_bpftool,
                           mounted_bpffs, pybpfc_bpffs_mounts, pybpfc_cgroups,
                           require_root)
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


KERNEL_TESTS = Path(__file__).resolve().parent / "kernel"


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config.stash[CGROUPS_BEFORE_SESSION] = pybpfc_cgroups()
    session.config.stash[BPFFS_BEFORE_SESSION] = pybpfc_bpffs_mounts()


@pytest.fixture(autouse=True)
def _note_cgroups_left(request: pytest.FixtureRequest) -> Iterator[None]:
    """Notes which kernel test each pybpfc cgroup appeared during, so the
    residue check names the test that left one behind.  A note, not a
    failure: another test run on the machine may be making cgroups too."""
    if request.node.get_closest_marker("kernel") is None \
            or request.node.get_closest_marker("residue") is not None:
        yield
        return
    before = pybpfc_cgroups()
    yield
    appeared = request.config.stash.setdefault(CGROUPS_APPEARED_DURING, {})
    for path in pybpfc_cgroups() - before:
        appeared.setdefault(path, request.node.nodeid)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test under tests/kernel/ needs the kernel (marker ``kernel``);
    tests elsewhere that do say so themselves.  The ``residue`` checks run
    after every other test."""
    for item in items:
        if KERNEL_TESTS in Path(item.path).parents:
            item.add_marker(pytest.mark.kernel)
    items.sort(key=lambda item: item.get_closest_marker("residue") is not None)
