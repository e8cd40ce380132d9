"""`+=` and `-=` on memory every CPU writes (globals, values of shared
maps) are indivisible: several processes calling the hook at once leave
the exact total, where a load and a store would lose some of the updates.
Per-CPU values stay plain and still add up."""
from __future__ import annotations

import os
import socket
from pathlib import Path

from tests.support import require_root
from pybpfc.compiler.driver import compile_source
from pybpfc.compiler.errors import Source
from pybpfc.runtime.cgroup import TemporaryCgroup
from pybpfc.runtime.collection import load

CHILDREN = 4
CALLS_EACH = 50_000

PROGRAM = """
from pybpfc import (ALLOW, ArrayMap, HashMap, PerCpuArrayMap, SockoptContext, cgroup_setsockopt,
                    struct, u32, u64)


@struct
class Tally:
    calls: u64
    bytes_seen: u32


hits: u64 = 0
down: u32 = 4000000000
tallies: ArrayMap[Tally] = ArrayMap(max_entries=1)
by_name: HashMap[u32, u64] = HashMap(max_entries=4)
mine: PerCpuArrayMap[u64] = PerCpuArrayMap(max_entries=1)


@cgroup_setsockopt
def count(ctx: SockoptContext) -> int:
    global hits, down
    hits += 1
    down -= 2
    tally = tallies.lookup(0)
    if tally is not None:
        tally.value.calls += 1
        tally.value.bytes_seen += u32(ctx.optlen)
    seen = by_name.lookup(7)
    if seen is not None:
        seen.value += 1
    own = mine.lookup(0)
    if own is not None:
        own.value += 1
    ctx.optlen = 0
    return ALLOW
"""


def hammer(cgroup: Path, start: int) -> None:
    """In a forked child: join the cgroup, wait for the start signal, then
    make CALLS_EACH setsockopt calls (each runs the hook once)."""
    Path(cgroup, "cgroup.procs").write_text(str(os.getpid()))
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    os.read(start, 1)
    for _ in range(CALLS_EACH):
        sock.setsockopt(socket.SOL_IP, socket.IP_TTL, 64)
    sock.close()


def test_updates_from_many_processes_add_up_exactly(cgroup: TemporaryCgroup) -> None:
    require_root("attaching to a cgroup")
    with load(compile_source(Source("tally.py", PROGRAM)).elf) as coll:
        coll.maps["by_name"][7] = 0
        link = coll["count"].attach(cgroup.path)
        pids = []
        read_end, write_end = os.pipe()
        try:
            for _ in range(CHILDREN):
                pid = os.fork()
                if pid == 0:
                    status = 1
                    try:
                        hammer(cgroup.path, read_end)
                        status = 0
                    finally:
                        os._exit(status)
                pids.append(pid)
            os.write(write_end, b"x" * CHILDREN)       # all start together
            statuses = [os.waitpid(pid, 0)[1] for pid in pids]
        finally:
            os.close(read_end)
            os.close(write_end)
            link.close()
        assert statuses == [0] * CHILDREN
        total = CHILDREN * CALLS_EACH
        assert coll.globals["hits"] == total
        assert coll.globals["down"] == 4_000_000_000 - 2 * total
        tally = coll.maps["tallies"][0]
        assert (tally.calls, tally.bytes_seen) == (total, 4 * total)   # IP_TTL's int
        assert coll.maps["by_name"][7] == total
        assert sum(coll.maps["mine"][0]) == total
