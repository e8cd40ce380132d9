"""What programs say while they run, shown live: print() lines and ring
buffer records under `pybpfc run`, the trace buffer read without mounting
anything, other programs' lines left out, lost lines counted."""
from __future__ import annotations

import os
import socket
import sys
import time
from pathlib import Path

import pytest

from pybpfc.runtime import system
from pybpfc.runtime.cgroup import TemporaryCgroup
from pybpfc.runtime.collection import load
from pybpfc.runtime.elf import read_object
from pybpfc.runtime.live import watch
from pybpfc.runtime.trace_output import TracePrints, print_formats
from tests.cli.test_cli_run_options import SETTABLE
from tests.support import pybpfc_cli, read_mountinfo, require_root, run_in_cgroup

pytestmark = pytest.mark.kernel

SOCKETS = """
from pybpfc import ALLOW, ArrayMap, RingBuf, SockContext, atomic_add, cgroup_sock_create, struct, u32, u64


@struct
class Made:
    family: u32
    kind: u32


made: RingBuf = RingBuf(max_entries=4096)
kinds_hist: ArrayMap[u64] = ArrayMap(max_entries=8)


@cgroup_sock_create
def show(ctx: SockContext) -> int:
    print("socket: family", ctx.family, "type", ctx.type)
    record = Made()
    record.family = ctx.family
    record.kind = ctx.type
    made.output(record)
    bucket = u32(2) if ctx.type == 1 else u32(3)     # types 1 and 2, log2 buckets
    count = kinds_hist.lookup(bucket)
    if count is not None:
        atomic_add(count.value, 1)
    return ALLOW
"""

# Sockets made slowly, so that what the hook says comes in a known order.
MAKE_SOCKETS = ("import socket, time\n"
                "for family, kind in ((2, 1), (2, 2), (10, 2)):\n"
                "    socket.socket(family, kind).close()\n"
                "    time.sleep(0.3)\n")


def tracefs_mounts() -> list[str]:
    return [line for line in read_mountinfo().splitlines() if " - tracefs " in line]


def our_trace_instances() -> list[str]:
    """Trace instances pybpfc made, seen through a tracefs of the test's own
    (a mount in no directory, gone when its fd is closed)."""
    root = system.detached_mount("tracefs")
    try:
        instances = os.open("instances", os.O_RDONLY | os.O_DIRECTORY, dir_fd=root)
        try:
            return [name for name in os.listdir(instances) if name.startswith("pybpfc-")]
        finally:
            os.close(instances)
    finally:
        os.close(root)


def build(tmp_path: Path, source: str, name: str = "prog") -> Path:
    program = tmp_path / f"{name}.py"
    program.write_text(source)
    result = pybpfc_cli("build", program)
    assert result.returncode == 0, result.stderr
    return program.with_suffix(".o")


def test_run_shows_prints_and_records_as_they_come(tmp_path: Path) -> None:
    require_root("pybpfc run")
    program = tmp_path / "sockets.py"
    program.write_text(SOCKETS)
    mounts, instances = tracefs_mounts(), our_trace_instances()
    result = pybpfc_cli("run", program, "--", sys.executable, "-c", MAKE_SOCKETS)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "socket: family 2 type 1", "made: {family: 2, kind: 1}",
        "socket: family 2 type 2", "made: {family: 2, kind: 2}",
        "socket: family 10 type 2", "made: {family: 10, kind: 2}"]
    # The histogram as a bar chart after the command, not as an array.
    assert "histogram kinds_hist (3 values)\n" \
           "[1]                    1 |" + "@" * 26 + " " * 26 + "|\n" \
           "[2, 4)                 2 |" + "@" * 52 + "|\n" in result.stderr
    assert "map kinds_hist" not in result.stderr
    assert "lost" not in result.stderr
    assert "__pybpfc" not in result.stderr       # the ring buffer's hidden count of lost records
    # Nothing was mounted for the user to see, nothing is left.
    assert tracefs_mounts() == mounts
    assert our_trace_instances() == instances


OTHER = """
from pybpfc import ALLOW, SockContext, cgroup_sock_create


@cgroup_sock_create
def other(ctx: SockContext) -> int:
    print("another program saw protocol", ctx.protocol)
    return ALLOW
"""


def make_sockets(count: int) -> None:
    for _ in range(count):
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM).close()


def test_a_watcher_shows_only_its_own_programs_lines(tmp_path: Path) -> None:
    require_root("loading and attaching")
    mine, other = build(tmp_path, SOCKETS, "mine"), build(tmp_path, OTHER, "other")
    with TemporaryCgroup() as cgroup, load(mine) as coll, load(other) as noise, \
            watch(coll) as watcher, coll["show"].attach(cgroup.path), \
            noise["other"].attach(cgroup.path):
        run_in_cgroup(cgroup.path, make_sockets, 2)
        deadline = time.monotonic() + 5
        seen = []
        while len(seen) < 4 and time.monotonic() < deadline:
            seen += [out.text for out in watcher.poll(timeout=0.5)]
        time.sleep(0.2)
        seen += [out.text for out in watcher.read()]
    assert sorted(seen) == sorted(["socket: family 2 type 2", "made: {family: 2, kind: 2}"] * 2)
    assert [t for t in seen if t.startswith("socket")] == ["socket: family 2 type 2"] * 2


def test_lines_the_trace_buffer_had_no_room_for_are_counted(tmp_path: Path) -> None:
    require_root("loading and attaching")
    spec = read_object(build(tmp_path, OTHER, "other").read_bytes())
    total = 3000
    with TemporaryCgroup() as cgroup, load(spec) as coll, \
            TracePrints(print_formats(spec), buffer_kb=4) as prints, \
            coll["other"].attach(cgroup.path):
        run_in_cgroup(cgroup.path, make_sockets, total)
        time.sleep(0.2)
        shown = prints.read()
        lost = prints.lost()
    assert lost > 0
    assert len(shown) + lost == total
    assert {line.message for line in shown} == {"another program saw protocol 17"}


TWO_SOCKETS = "import socket; socket.socket(); socket.socket(socket.AF_INET, socket.SOCK_DGRAM)"


def test_run_sets_readonly_globals_before_loading(tmp_path: Path) -> None:
    require_root("pybpfc run")
    program = tmp_path / "settable.py"
    program.write_text(SETTABLE)
    plain = pybpfc_cli("run", program, "--", sys.executable, "-c", TWO_SOCKETS)
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout == ""
    assert "global seen = 2\n" in plain.stderr
    # Options of run after PROGRAM, before `--`, and before PROGRAM.
    result = pybpfc_cli("run", "--set", "limit=0x10", program, "--set", "verbose=true",
                        "--", sys.executable, "-c", TWO_SOCKETS)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "socket of type 1\nsocket of type 2\n"
    assert "global seen = 32\n" in result.stderr
    assert "global limit = 16\n" in result.stderr


SHORT_ONLY = """
from pybpfc import SkBuff, socket_filter

kept: int = 0


@socket_filter
def short_only(skb: SkBuff) -> int:
    global kept
    if skb.len > 8 + 8:      # the UDP header, then at most 8 bytes
        return 0             # dropped: the socket never sees it
    kept += 1
    print("kept a datagram of", skb.len, "bytes")
    return skb.len
"""

SEND = ("import os, socket, time\n"
        "host, _, port = os.environ['PYBPFC_SOCKET'].rpartition(':')\n"
        "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
        "s.bind(('127.0.0.1', 0))\n"
        "print('from', s.getsockname()[1], flush=True)\n"
        "for data in (b'hi', b'x' * 20, b'12345678'):\n"
        "    s.sendto(data, (host, int(port)))\n"
        "    time.sleep(0.3)\n")


def test_run_tries_a_socket_filter_on_a_socket_of_its_own(tmp_path: Path) -> None:
    require_root("pybpfc run")
    program = tmp_path / "short_only.py"
    program.write_text(SHORT_ONLY)
    result = pybpfc_cli("run", program, "--socket", "udp:0", "--", sys.executable, "-c", SEND)
    assert result.returncode == 0, result.stderr
    first, *shown = result.stdout.splitlines()
    sender = f"127.0.0.1:{first.split()[1]}"
    attached = [line for line in result.stderr.splitlines() if "attached" in line]
    assert len(attached) == 1 and attached[0].startswith(
        "pybpfc run: attached short_only to socket udp 127.0.0.1:"), result.stderr
    where = attached[0].split("socket ")[1].split(",")[0]
    assert shown == ["kept a datagram of 10 bytes",
                     f"{where}: 2 bytes from {sender}: b'hi'",
                     "kept a datagram of 16 bytes",
                     f"{where}: 8 bytes from {sender}: b'12345678'"]
    assert f"pybpfc run: socket {where} received 2 datagrams\n" in result.stderr
    assert "global kept = 2\n" in result.stderr


def test_run_refuses_a_socket_it_cannot_open(tmp_path: Path) -> None:
    program = tmp_path / "short_only.py"
    program.write_text(SHORT_ONLY)
    result = pybpfc_cli("run", program, "--socket", "tcp:80", "--", "true")
    assert result.returncode == 1
    assert result.stderr == ("pybpfc run: error: --socket tcp:80: write udp:PORT (127.0.0.1) "
                             "or udp6:PORT (::1), PORT 0 for any free one, e.g. "
                             "--socket udp:0\n")


def test_cleanup_removes_the_trace_instance_of_a_killed_reader() -> None:
    require_root("tracefs")
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:        # a reader that dies without closing, as under SIGKILL
        prints = TracePrints([b"x"])
        os.write(write_end, prints.name.encode())
        os._exit(0)
    os.close(write_end)
    name = os.read(read_end, 256).decode()
    os.close(read_end)
    os.waitpid(pid, 0)
    assert name.startswith(f"pybpfc-{pid}-") and name in our_trace_instances()
    result = pybpfc_cli("cleanup", "--pid", str(pid))
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"removed trace instance {name}: its pybpfc (pid {pid}) had gone\n"
    assert name not in our_trace_instances()


def test_load_sets_readonly_globals_in_what_it_pins(tmp_path: Path, bpffs: Path) -> None:
    program = tmp_path / "settable.py"
    program.write_text(SETTABLE)
    pins = bpffs / "settable"
    loaded = pybpfc_cli("load", program, "--set", "limit=9", "--set", "name=abc",
                        "--pin", pins)
    assert loaded.returncode == 0, loaded.stderr
    try:
        shown = pybpfc_cli("maps", pins)
        assert shown.returncode == 0, shown.stderr
        assert "global limit = 9\n" in shown.stdout
        assert "global name = b'abc'\n" in shown.stdout
        assert "global verbose = False\n" in shown.stdout
    finally:
        assert pybpfc_cli("detach", pins).returncode == 0


def test_records_a_full_ring_buffer_had_no_room_for_are_counted(tmp_path: Path) -> None:
    require_root("loading and attaching")
    # 16 bytes each with its header; the kernel keeps the 4096-byte ring from
    # filling up to its last byte, so 255 fit.
    total = 1000
    with TemporaryCgroup() as cgroup, load(build(tmp_path, SOCKETS)) as coll, \
            watch(coll, prints=False) as watcher, coll["show"].attach(cgroup.path):
        run_in_cgroup(cgroup.path, make_sockets, total)
        records = watcher.read()
        lost = watcher.dropped()
    assert len(records) == 255
    assert {out.text for out in records} == {"made: {family: 2, kind: 2}"}
    assert lost == {"made": total - len(records)}
    assert "__pybpfc_lost_made" not in coll.globals.names()
