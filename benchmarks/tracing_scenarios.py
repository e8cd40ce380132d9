"""Scenarios of the tracing examples (attach="tracing").

Their programs see the whole machine, so a probe runs in a forked child
and each scenario's ``select`` keeps only what that child caused (its
records, its counts), with the child's pid left out, so that the two
objects' runs compare.  What depends on timing is compared as far as it is
certain: readlat's reads are all quick (well under 10 ms), and profile's
samples are only compared as "the spinning child was sampled, mostly in
user space", since how many samples fall in a run is chance.
"""
from __future__ import annotations

import ctypes
import os
import struct
import time
from typing import Any

from pybpfc.abi.system import GETPPID_SYSCALL_NUMBERS

from .scenarios import Scenario

# getppid(2), a system call nothing else in the probe's child makes.
GETPPID = GETPPID_SYSCALL_NUMBERS[os.uname().machine]
OPENED = ("/proc/self/stat", "/proc/self/pybpfc-bench-no-such-file")
ENV_SET, ENV_UNSET = b"PYBPFC_BENCH_GETENV_SET", b"PYBPFC_BENCH_GETENV_UNSET"
PROFILE_FREQUENCY = 199


def text(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode(errors="replace")


# ------------------------------------------------------------------ probes


def probe_opens() -> list[int]:
    outcomes = []
    for path in OPENED:
        try:
            os.close(os.open(path, os.O_RDONLY))
            outcomes.append(0)
        except OSError as err:
            outcomes.append(err.errno or -1)
    return outcomes


def probe_exec() -> None:
    os.execv("/bin/true", ["true"])


def probe_getppid() -> int:
    return sum(1 for _ in range(7) if os.getppid())


def probe_quick_reads() -> int:
    r, w = os.pipe()
    os.write(w, b"xxxxx")
    got = b"".join(os.read(r, 1) for _ in range(5))
    os.close(r)
    os.close(w)
    return len(got)


def probe_getenv() -> list[bool]:
    os.environ[ENV_SET.decode()] = "1"
    libc = ctypes.CDLL("libc.so.6")
    libc.getenv.restype = ctypes.c_char_p
    return [libc.getenv(name) is not None for name in (ENV_SET, ENV_UNSET, ENV_SET)]


def probe_spin() -> bool:
    start = time.process_time()
    while time.process_time() - start < 0.3:
        for _ in range(100_000):
            pass
    return True


# --------------------------------------------------------- what to compare


def select_opens(state: dict[str, Any], pid: int) -> Any:
    """The child's records of OPENED: (thread is the process, flags,
    success, errno, comm, file name); which fd an open got depends on what
    the child inherited, so only its sign is compared."""
    rows = []
    for raw in state["opens"]:
        rpid, tid, flags, ret = struct.unpack_from("<IIQq", raw)
        name = text(raw[40:168])
        if rpid == pid and name in OPENED:
            rows.append((tid == pid, flags, ret >= 0, min(ret, 0), text(raw[24:40]), name))
    return rows, [k for k, _ in state["pending"] if k == pid]


def select_execs(state: dict[str, Any], pid: int) -> Any:
    return [(p == pid, old == pid, text(raw[8:24]), text(raw[24:152]))
            for raw in state["execs"] for p, old in [struct.unpack_from("<II", raw)] if p == pid]


def select_exec_parents(state: dict[str, Any], pid: int) -> Any:
    """The child's exec: its parent (the harness, the same in both runs)
    and the two names."""
    return [(ppid, text(raw[8:24]), text(raw[24:40])) for raw in state["execs"]
            for p, ppid in [struct.unpack_from("<II", raw)] if p == pid]


def select_getppid(state: dict[str, Any], pid: int) -> Any:
    return [v for k, v in state["calls"] if k == pid << 32 | GETPPID]


def select_exec_count(state: dict[str, Any], pid: int) -> Any:
    return [v for k, v in state["execs"] if k == pid]


def select_quick_reads(state: dict[str, Any], pid: int) -> Any:
    """How many reads were counted, and how many in buckets under 2^23 ns
    (8 ms; bucket 1 + bit_length)."""
    counts = dict(state["read_ns_hist"])
    return sum(counts.values()), sum(n for b, n in counts.items() if b <= 24)


def select_getenv(state: dict[str, Any], pid: int) -> Any:
    return [(text(raw[8:72]), found) for raw in state["calls"]
            for p, found in [struct.unpack_from("<II", raw)]
            if p == pid and raw[8:72].startswith(b"PYBPFC_BENCH_")]


def select_samples(state: dict[str, Any], pid: int) -> Any:
    samples = dict(state["samples"])
    in_user, in_kernel = samples.get(pid << 1, 0), samples.get(pid << 1 | 1, 0)
    return in_user + in_kernel > 0, in_user > in_kernel


def select_stack_samples(state: dict[str, Any], pid: int) -> Any:
    """Whether the child was sampled, and whether most of its samples have
    a user stack and no kernel one (it spins in user space).  Stack ids
    are the order stacks came in: not compared."""
    mine = [(key, n) for key, n in state["counts"] if key["pid"] == pid]
    in_user = sum(n for key, n in mine if key["user_stack"] >= 0 > key["kernel_stack"])
    return bool(mine), in_user > sum(n for _, n in mine) - in_user


# --------------------------------------------------------------- scenarios
# The load generator's op names a loop for test_bench_twins' build check;
# tracing rows are not timed (see scenarios.py).

OPENSNOOP = Scenario("opensnoop", "open_null", "openat of a file and of a missing one", 1,
                     probe_opens, attach="tracing", select=select_opens)
EXECSNOOP = Scenario("execsnoop", "socket_close", "exec of /bin/true", 1, probe_exec,
                     attach="tracing", select=select_execs)
EXEC_PARENTS = Scenario("exec_parents", "socket_close", "exec of /bin/true", 1, probe_exec,
                        attach="tracing", select=select_exec_parents)
SYSCOUNT = Scenario("syscount", "getsockopt", "seven getppid(2) calls", 1, probe_getppid,
                    attach="tracing", select=select_getppid)
EXEC_PIDS = Scenario("exec_pids", "socket_close", "exec of /bin/true", 1, probe_exec,
                     attach="tracing", select=select_exec_count)
READLAT = Scenario("readlat", "sysctl_read", "five reads of a ready pipe", 1, probe_quick_reads,
                   attach="tracing", select=select_quick_reads, target_global="target")
LIBC_CALLS = Scenario("libc_calls", "socket_close", "getenv() of a set and an unset name", 1,
                      probe_getenv, attach="tracing", select=select_getenv)
PROFILE = Scenario("profile", "socket_close", "0.3 s of CPU in user space", 1, probe_spin,
                   attach="tracing", select=select_samples, frequency=PROFILE_FREQUENCY)
PROFILE_STACKS = Scenario("profile_stacks", "socket_close", "0.3 s of CPU in user space", 1,
                          probe_spin, attach="tracing", select=select_stack_samples,
                          frequency=PROFILE_FREQUENCY)
