"""Faults a user meets, each ending in a clear BpfError and leaving nothing
behind (no file descriptor, cgroup, pin or file): a verifier rejection,
missing privileges, a cgroup that does not exist or is removed while a
program is attached, a full map, and pinning outside a bpffs.

Privileges are dropped only in forked children; cgroups are our own
TemporaryCgroups; pins go into a bpffs mounted for the test.
"""
from __future__ import annotations

import ctypes
import errno
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import pytest

from fuzz.isolate import run_isolated
from fuzz.objects import REPO_ROOT, build_c_objects
from tests.support import require_kernel_feature, require_root, run_in_cgroup
from pybpfc.abi.system import PR_SET_SECUREBITS, SECBIT_NOROOT, SECBIT_NOROOT_LOCKED
from pybpfc.compiler.driver import compile_source
from pybpfc.compiler.errors import Source
from pybpfc.runtime.cgroup import TemporaryCgroup, cgroup2_root
from pybpfc.runtime.collection import load
from pybpfc.runtime.errors import BpfError, CgroupError, SyscallError, VerifierError
from pybpfc.runtime.pinning import pin_all

DENY_TTL = REPO_ROOT / "examples" / "deny_ttl.py"
SPIN = ("from pybpfc import SysctlContext, cgroup_sysctl, ALLOW\n\n\n"
        "@cgroup_sysctl\ndef spin(ctx: SysctlContext) -> int:\n"
        "    while ctx.file_pos < 10:\n        pass\n    return ALLOW\n")


def open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


def deny_ttl_object() -> bytes:
    return compile_source(Source(str(DENY_TTL), DENY_TTL.read_text())).elf


def in_child(fn: Callable[[], Any]) -> Any:
    """``fn()`` in a forked child (its result, or ``('raised', type, message)``)."""
    def call(_: object) -> Any:
        try:
            return fn()
        except Exception as err:
            return ("raised", type(err).__name__, str(err))
    ((_, result),) = run_isolated(call, [None])
    return result


# ------------------------------------------------------------- verifier


@pytest.mark.kernel
def test_verifier_rejection_is_explained_and_leaves_nothing_open() -> None:
    require_root("loading programs")
    elf = compile_source(Source("spin.py", SPIN)).elf
    before = open_fds()
    with pytest.raises(VerifierError) as caught:
        load(elf)
    message = str(caught.value)
    assert message.startswith("program 'spin': the verifier rejected it")
    assert "spin.py:6:11: error: this loop can never end\n" \
           "        while ctx.file_pos < 10:\n" in message
    assert caught.value.log            # the whole log is kept for the user
    assert open_fds() == before        # the BTF and the .bss map were closed


# ----------------------------------------------------------- privileges

_LINUX_CAPABILITY_VERSION_3 = 0x20080522


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


def drop_all_capabilities() -> None:
    """Stay uid 0 but hold no capability, even across execve (only ever
    called in a child)."""
    libc = ctypes.CDLL(None, use_errno=True)
    # Otherwise execve gives uid 0 every capability back.
    if libc.prctl(PR_SET_SECUREBITS, SECBIT_NOROOT | SECBIT_NOROOT_LOCKED, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_SECUREBITS)")
    header = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()
    if libc.capset(ctypes.byref(header), data) != 0:
        raise OSError(ctypes.get_errno(), "capset")


def become_nobody() -> None:
    os.setgroups([])
    os.setresgid(65534, 65534, 65534)
    os.setresuid(65534, 65534, 65534)


@pytest.mark.kernel
@pytest.mark.parametrize("drop", [drop_all_capabilities, become_nobody],
                         ids=["no capabilities", "uid nobody"])
def test_loading_without_privileges_says_what_is_needed(drop: Callable[[], None]) -> None:
    require_root("dropping privileges")
    elf = deny_ttl_object()

    def unprivileged_load() -> Any:
        drop()
        before = open_fds()
        try:
            load(elf)
        except SyscallError as err:
            return err.errno, str(err), open_fds() == before
        return "loaded"

    result = in_child(unprivileged_load)
    assert result != "loaded" and result[0] != "raised", result
    number, message, no_leak = result
    assert number == errno.EPERM
    assert "failed: Operation not permitted (EPERM) -- needs root or CAP_BPF" in message
    assert no_leak


@pytest.mark.kernel
def test_pybpfc_run_without_privileges_fails_cleanly() -> None:
    """Without capabilities, `pybpfc run` cannot make its cgroup: one clear
    line, exit 1, and no cgroup left behind."""
    require_root("dropping privileges")
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    before = {p.name for p in cgroup2_root().iterdir()}
    result = subprocess.run([sys.executable, "-m", "pybpfc", "run", str(DENY_TTL), "--", "true"],
                            env=env, capture_output=True, text=True, timeout=60,
                            preexec_fn=drop_all_capabilities)
    assert result.returncode == 1, result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert f": error: cannot create cgroup '{cgroup2_root()}/pybpfc-" in result.stderr
    assert result.stderr.endswith("': Permission denied\n")
    assert "Traceback" not in result.stderr
    assert {p.name for p in cgroup2_root().iterdir()} == before


# --------------------------------------------------------------- cgroups


def ttl_errno() -> int:
    try:
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM).setsockopt(0, 2, 5)
    except OSError as err:
        return err.errno or -1
    return 0


@pytest.mark.kernel
def test_attaching_to_a_missing_cgroup_names_it() -> None:
    require_root("loading programs")
    missing = cgroup2_root() / f"pybpfc-missing-{os.getpid()}"
    assert not missing.exists()
    with load(deny_ttl_object()) as coll:
        before = open_fds()
        with pytest.raises(CgroupError, match=rf"^cgroup '{missing}' does not exist$"):
            coll["deny_ttl"].attach(missing)
        assert open_fds() == before
    assert not missing.exists()


@pytest.mark.kernel
def test_cgroup_removed_while_a_program_is_attached() -> None:
    require_root("attaching to a cgroup")
    before = open_fds()
    with load(deny_ttl_object()) as coll:
        cgroup = TemporaryCgroup().create()
        try:
            link = coll["deny_ttl"].attach(cgroup.path)
            assert run_in_cgroup(cgroup.path, ttl_errno) == errno.EPERM
            os.rmdir(cgroup.path)            # an empty cgroup goes, attached or not
            assert not cgroup.path.exists()
            link.close()                     # detaching from a dead cgroup is quiet
            with pytest.raises(CgroupError, match="does not exist"):
                coll["deny_ttl"].attach(cgroup.path)
        finally:
            cgroup.remove()                  # already gone: nothing to do, no error
    assert open_fds() == before


TWO_TARGETS = ("from pybpfc import ALLOW, SkBuff, SockContext, cgroup_sock_create, "
               "socket_filter\n\n\n"
               "@socket_filter\ndef keep(skb: SkBuff) -> int:\n    return skb.len\n\n\n"
               "@cgroup_sock_create\ndef allow(ctx: SockContext) -> int:\n    return ALLOW\n")


@pytest.mark.kernel
def test_a_program_attaches_only_to_what_its_hook_attaches_to(cgroup: TemporaryCgroup) -> None:
    """Program.attach_target comes from the hook's row in the ABI tables; a
    cgroup path for a socket filter, or a socket for a cgroup program, is
    refused by name, and nothing is attached."""
    from pybpfc import abi
    with load(compile_source(Source("two.py", TWO_TARGETS)).elf) as coll:
        keep, allow = coll["keep"], coll["allow"]
        assert (keep.attach_target, allow.attach_target) == (abi.TARGET_SOCKET,
                                                             abi.TARGET_CGROUP)
        before = open_fds()
        with pytest.raises(BpfError, match=r"^program 'keep': section 'socket' attaches to a "
                                           r"socket \(setsockopt\(SOL_SOCKET, SO_ATTACH_BPF\)\), "
                                           r"not to a cgroup$"):
            keep.attach(cgroup.path)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            with pytest.raises(BpfError, match=r"^program 'allow': section 'cgroup/sock_create' "
                                               r"attaches to a cgroup \(.*\), not to a socket$"):
                allow.attach(s)
            with keep.attach(s):
                pass
        assert open_fds() == before
        with allow.attach(cgroup.path):
            pass


# ------------------------------------------------------------------ maps


@pytest.mark.kernel
def test_a_full_map_refuses_new_keys_and_says_why() -> None:
    require_root("loading objects")
    try:
        (elf,) = build_c_objects([REPO_ROOT / "tests" / "c" / "maps_globals.c"]).values()
    except RuntimeError as err:
        require_kernel_feature("clang", False, str(err))
        raise
    before = open_fds()
    with load(elf) as coll:
        stats = coll.maps["stats_by_proto"]
        capacity = stats.spec.max_entries
        for key in range(capacity):
            stats[key] = {"packets": key}
        with pytest.raises(SyscallError) as caught:
            stats[capacity] = {"packets": 1}
        assert caught.value.errno == errno.E2BIG
        assert str(caught.value) == ("map 'stats_by_proto': BPF_MAP_UPDATE_ELEM failed: "
                                     "Argument list too long (E2BIG) -- the map is full "
                                     "(max_entries reached)")
        assert len(stats) == capacity
        stats[0] = {"packets": 99}           # updating an existing key still works
        assert stats[0].packets == 99
    assert open_fds() == before


# --------------------------------------------------------------- pinning


@pytest.mark.kernel
def test_pinning_outside_a_bpffs_is_refused_and_creates_nothing(tmp_path: Path) -> None:
    require_root("loading programs")
    with load(deny_ttl_object()) as coll:
        before = open_fds()
        programs = [(p.name, p.fd) for p in coll.programs.values()]
        maps = [(m.name, m.fd) for m in coll.data.values()]
        with pytest.raises(BpfError, match=rf"^pin directory '{tmp_path / 'pins'}': not on a "
                                           r"bpffs \(mount one with `mount -t bpf bpf DIR`\)$"):
            pin_all(tmp_path / "pins", programs, maps, [])
        with pytest.raises(SyscallError) as caught:
            coll["deny_ttl"].pin(tmp_path / "deny_ttl")
        assert caught.value.errno == errno.EPERM
        assert "pin paths must be inside a mounted bpf filesystem" in str(caught.value)
        assert open_fds() == before
    assert list(tmp_path.iterdir()) == []


@pytest.mark.kernel
def test_pinning_into_a_bpffs_that_already_holds_pins_is_refused(bpffs: Path) -> None:
    require_root("loading programs")
    with load(deny_ttl_object()) as coll:
        programs = [(p.name, p.fd) for p in coll.programs.values()]
        pin_all(bpffs, programs, [], [])
        with pytest.raises(BpfError, match="already holds pins; detach it first"):
            pin_all(bpffs, programs, [], [])
        assert [p.name for p in (bpffs / "programs").iterdir()] == ["deny_ttl"]
