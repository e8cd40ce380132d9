"""After the whole suite: no cgroup a test made is left (those there
before the session began are not the tests'), no bpffs a test
mounted is still mounted (the same), and no program loaded during the session is
still attached to any cgroup.  conftest.py runs ``residue`` tests last."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support import (BPFFS_BEFORE_SESSION, CGROUPS_APPEARED_DURING,
                           CGROUPS_BEFORE_SESSION, pybpfc_bpffs_mounts, pybpfc_cgroups)
from pybpfc import abi
from pybpfc.runtime import bpf
from pybpfc.runtime.cgroup import cgroup2_root

SESSION_START_NS = int(os.environ["PYBPFC_TEST_SESSION_START_NS"])
pytestmark = pytest.mark.residue

CGROUP_ATTACH_TYPES = sorted({h.attach_type_id for h in abi.HOOKS
                              if h.attach_target == abi.TARGET_CGROUP})


def test_no_test_cgroup_remains(request: pytest.FixtureRequest) -> None:
    left = sorted(pybpfc_cgroups() - request.config.stash[CGROUPS_BEFORE_SESSION])
    appeared = request.config.stash.get(CGROUPS_APPEARED_DURING, {})
    assert not left, [f"{path} (appeared during {appeared.get(path, 'no kernel test')})"
                      for path in left]


def test_no_test_bpffs_stays_mounted(request: pytest.FixtureRequest) -> None:
    left = sorted(pybpfc_bpffs_mounts() - request.config.stash[BPFFS_BEFORE_SESSION])
    assert not left, left


def attached_programs(cgroup: Path) -> list[tuple[Path, int]]:
    fd = os.open(cgroup, os.O_RDONLY | os.O_DIRECTORY)
    try:
        found = []
        for attach_type in CGROUP_ATTACH_TYPES:
            try:
                found += [(cgroup, pid) for pid in bpf.prog_query(fd, attach_type).prog_ids]
            except bpf.SyscallError:
                continue
        return found
    finally:
        os.close(fd)


def test_no_program_of_this_session_stays_attached() -> None:
    root = cgroup2_root()
    leftovers = []
    for cgroup in [root, *[p for p in root.rglob("*") if p.is_dir()]]:
        for where, prog_id in attached_programs(cgroup):
            fd = bpf.prog_get_fd_by_id(prog_id)
            try:
                info = bpf.obj_get_info_by_fd(fd, "prog")
            finally:
                os.close(fd)
            if info.load_time >= SESSION_START_NS:
                leftovers.append(f"{info.name} (id {prog_id}) on {where}")
    assert not leftovers, leftovers
