"""Map kinds beyond hash and array, through pybpfc's runtime: per-CPU
maps, socket storage, cgroup storage, LRU hashes with struct keys and ring
buffers, built by clang from tests/c/maps_sk_storage.c and
tests/c/maps_sockopt_events.c.  Kernel tests attach to a temporary cgroup,
make the syscalls in a forked child and assert the exact values the
programs left, read from Python and shown by ``pybpfc maps``.

Safety: programs attach only to cgroups the tests create (TemporaryCgroup);
only forked children move into them; pins go to a bpffs the test mounts.
"""
from __future__ import annotations

import dataclasses
import mmap
import os
import socket
import struct
from pathlib import Path
from typing import Any

import pytest

from tests.support import REPO_ROOT, Attached, clang_bpf, pybpfc_cli, require_root, run_in_cgroup
from pybpfc.runtime import bpf, maps
from pybpfc.runtime.cgroup import TemporaryCgroup, cgroup_id
from pybpfc.runtime.collection import load
from pybpfc.runtime.elf import read_object
from pybpfc.runtime.errors import BpfError, SyscallError
from pybpfc.runtime.maps import (CgroupStorageMap, NoStorageError, PerCpuMap, RingBufMap,
                                 SkStorageMap, check_creatable, count_cpus,
                                 possible_cpus)
from pybpfc.runtime.ringbuf import BUSY_BIT, DISCARD_BIT, RingBuffer
from pybpfc.runtime.spec import MapSpec

C_DIR = REPO_ROOT / "tests" / "c"
SOL_IP, IP_TOS, IP_TTL, IP_FREEBIND = 0, 1, 2, 15
IPPROTO_TCP, IPPROTO_UDP = 6, 17
PAGE = mmap.PAGESIZE


@pytest.fixture(scope="module")
def objects(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out_dir = tmp_path_factory.mktemp("maps")
    return {stem: clang_bpf(C_DIR / f"{stem}.c", out_dir / f"{stem}.o")
            for stem in ("maps_sk_storage", "maps_sockopt_events", "maps_globals",
                         "maps_without_keys")}


def fd_is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


# --------------------------------------------------------- no kernel needed


def test_cpu_lists_count_every_range() -> None:
    assert count_cpus("0,2-3,8-11\n") == 7
    assert count_cpus("0\n") == 1
    assert possible_cpus() == count_cpus(Path("/sys/devices/system/cpu/possible").read_text())


def _stats_spec(objects: dict[str, Path]) -> tuple[MapSpec, Any]:
    spec = read_object(objects["maps_sockopt_events"])
    return spec.maps["per_cpu"], spec.btf


def test_per_cpu_values_are_8_byte_slots_one_per_cpu(objects: dict[str, Path],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(maps, "possible_cpus", lambda: 3)
    map_spec, btf = _stats_spec(objects)
    # A 4-byte value: each CPU's copy takes an 8-byte slot.
    counts = dataclasses.replace(map_spec, value_size=4,
                                 value_type_id=read_object(objects["maps_sockopt_events"])
                                 .maps["per_cpu_by_optname"].value_type_id)
    per_cpu = PerCpuMap(-1, counts, btf)
    assert per_cpu.lookup_size == 24
    raw = per_cpu.encode_value([1, 2, 3])
    assert raw == b"".join(struct.pack("<I4x", n) for n in (1, 2, 3))
    assert per_cpu.decode_value(raw) == [1, 2, 3]
    assert per_cpu.encode_value(9) == struct.pack("<I4xI4xI4x", 9, 9, 9)
    with pytest.raises(BpfError, match=r"map 'per_cpu': 2 per-CPU values given, but this "
                                       r"machine has 3 possible CPUs"):
        per_cpu.encode_value([1, 2])

    structs = PerCpuMap(-1, map_spec, btf)
    raw = structs.encode_value([{"calls": 1}, {"calls": 2, "optlen_sum": 8}, {}])
    assert len(raw) == 48
    assert [v.calls for v in structs.decode_value(raw)] == [1, 2, 0]
    assert structs.decode_value(raw)[1] == {"calls": 2, "optlen_sum": 8}


def test_per_cpu_array_values_need_a_list_of_lists(objects: dict[str, Path],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(maps, "possible_cpus", lambda: 2)
    spec = read_object(objects["maps_globals"])
    assert spec.btf is not None
    stats = spec.btf[spec.maps["stats_by_proto"].value_type_id]
    tag = next(m.type for m in stats.members if m.name == "tag")     # unsigned char[6]
    per_cpu = PerCpuMap(-1, MapSpec("tags", bpf.BPF_MAP_TYPE_PERCPU_HASH, 4, 6, 8,
                                    value_type_id=tag), spec.btf)
    assert per_cpu.encode_value(b"abcdef") == b"abcdef\0\0" * 2      # one value, both CPUs
    raw = per_cpu.encode_value([b"abcdef", b"uvwxyz"])
    assert raw == b"abcdef\0\0uvwxyz\0\0"
    assert per_cpu.decode_value(raw) == [b"abcdef", b"uvwxyz"]


@pytest.mark.parametrize("change, message", [
    (dict(map_type=bpf.BPF_MAP_TYPE_RINGBUF, key_size=0, value_size=0, max_entries=3 * PAGE),
     f"power of two multiple of the page size \\({PAGE}\\); got {3 * PAGE}"),
    (dict(map_type=bpf.BPF_MAP_TYPE_RINGBUF, key_size=4, value_size=0, max_entries=PAGE),
     "a ring buffer has no key or value"),
    (dict(map_type=bpf.BPF_MAP_TYPE_CGROUP_STORAGE, key_size=16, max_entries=1),
     "max_entries must be 0, got 1"),
    (dict(map_type=bpf.BPF_MAP_TYPE_CGROUP_STORAGE, key_size=12, max_entries=0),
     "got 12 bytes"),
    (dict(map_type=bpf.BPF_MAP_TYPE_SK_STORAGE, key_size=4, max_entries=0, flags=0),
     "needs map_flags BPF_F_NO_PREALLOC"),
    (dict(map_type=bpf.BPF_MAP_TYPE_SK_STORAGE, key_size=4, max_entries=0,
          flags=bpf.BPF_F_NO_PREALLOC, key_type_id=0),
     "needs BTF key and value types"),
])
def test_definitions_the_kernel_refuses_are_refused_by_name(change: dict[str, int],
                                                           message: str) -> None:
    spec = dataclasses.replace(MapSpec("counts", bpf.BPF_MAP_TYPE_HASH, 4, 8, 1,
                                       key_type_id=1, value_type_id=2), **change)
    with pytest.raises(BpfError, match=f"^map 'counts': .*{message}"):
        check_creatable(spec, PAGE, has_btf=True)


def test_good_definitions_pass_the_checks() -> None:
    for spec in (MapSpec("r", bpf.BPF_MAP_TYPE_RINGBUF, 0, 0, 4 * PAGE),
                 MapSpec("c", bpf.BPF_MAP_TYPE_CGROUP_STORAGE, 16, 8, 0, 0, 1, 2),
                 MapSpec("s", bpf.BPF_MAP_TYPE_SK_STORAGE, 4, 8, 0, bpf.BPF_F_NO_PREALLOC, 1, 2)):
        check_creatable(spec, PAGE, has_btf=True)


class FakeRing:
    """The ring's two mappings in anonymous memory, laid out as the kernel
    lays them out, for record parsing without a kernel."""

    def __init__(self, size: int):
        self.size = size
        self.consumer = mmap.mmap(-1, PAGE)
        self.producer = mmap.mmap(-1, PAGE + 2 * size)
        self.reader = RingBuffer.__new__(RingBuffer)
        self.reader.what = "map 'fake'"
        self.reader.size, self.reader._mask, self.reader._page = size, size - 1, PAGE
        self.reader._decode = bytes
        self.reader.use_mappings(self.consumer, self.producer)

    def put(self, position: int, header: int, body: bytes) -> None:
        record = struct.pack("<II", header, 0) + body
        for copy in (0, self.size):       # the data area appears twice
            for i, byte in enumerate(record):
                at = (position + i) % self.size + copy
                if at < 2 * self.size:
                    self.producer[PAGE + at] = byte

    def produced(self, position: int) -> None:
        struct.pack_into("<Q", self.producer, 0, position)

    @property
    def consumed(self) -> int:
        return int(struct.unpack_from("<Q", self.consumer, 0)[0])


def test_ring_records_skip_discarded_stop_at_busy_and_keep_alignment() -> None:
    ring = FakeRing(4096)
    ring.put(0, 5, b"hello")                  # 8 + 5 -> 16 bytes
    ring.put(16, 3 | DISCARD_BIT, b"bad")     # discarded: skipped, still consumed
    ring.put(32, 8, b"12345678")
    ring.put(48, 4 | BUSY_BIT, b"wait")       # not committed yet
    ring.put(64, 2, b"ok")                    # 8 + 2 -> 16 bytes
    ring.produced(80)
    assert ring.reader.read_raw() == [b"hello", b"12345678"]
    assert ring.consumed == 48                # stopped at the busy record
    assert ring.reader.read_raw() == []
    ring.put(48, 4, b"wait")                  # committed
    assert ring.reader.read_raw() == [b"wait", b"ok"]
    assert ring.consumed == 80


def test_ring_record_that_wraps_reads_whole() -> None:
    ring = FakeRing(4096)
    struct.pack_into("<Q", ring.consumer, 0, 4096 - 16)
    body = bytes(range(40))
    ring.put(4096 - 16, len(body), body)      # runs 32 bytes past the end
    ring.produced(4096 - 16 + 48)
    assert ring.reader.read_raw() == [body]
    assert ring.consumed == 4096 + 32


def test_ring_record_longer_than_the_ring_is_refused() -> None:
    ring = FakeRing(4096)
    ring.put(0, 5000, b"")
    ring.produced(5008)
    with pytest.raises(BpfError, match=r"^map 'fake': a record at position 0 claims 5000 "
                                       r"bytes, more than the ring holds"):
        ring.reader.read_raw()
    assert ring.consumed == 0


def test_cgroup_storage_keys_without_btf() -> None:
    with_type = CgroupStorageMap(-1, MapSpec("cg", bpf.BPF_MAP_TYPE_CGROUP_STORAGE, 16, 8, 0),
                                 None)
    raw = with_type.encode_key({"cgroup_inode_id": 9354, "attach_type": 21})
    assert raw == struct.pack("<QI4x", 9354, 21)
    assert with_type.encode_key((9354, 21)) == raw
    assert with_type.decode_key(raw) == {"cgroup_inode_id": 9354, "attach_type": 21}
    with pytest.raises(BpfError, match=r"^map 'cg': key .*needs cgroup_inode_id and "
                                       r"attach_type"):
        with_type.encode_key({"cgroup_inode_id": 1})
    by_cgroup = CgroupStorageMap(-1, MapSpec("cg8", bpf.BPF_MAP_TYPE_CGROUP_STORAGE, 8, 8, 0),
                                 None)
    assert by_cgroup.encode_key({"cgroup_inode_id": 9354}) == struct.pack("<Q", 9354)
    assert by_cgroup.encode_key(9354) == struct.pack("<Q", 9354)
    assert by_cgroup.decode_key(struct.pack("<Q", 9354)) == 9354


# ---------------------------------------------------------- socket storage


@pytest.mark.kernel
def test_sock_create_and_release_keep_records_in_socket_storage(
        objects: dict[str, Path], cgroup: TemporaryCgroup) -> None:
    parent_end, child_end = socket.socketpair()
    with parent_end, child_end, Attached(objects["maps_sk_storage"], cgroup) as attached:
        coll = attached.coll
        records = coll.maps["sock_records"]
        assert isinstance(records, SkStorageMap)

        def child() -> int:
            udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)           # 100
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM).close()         # 101
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)     # 102
            listener.bind(("127.0.0.1", 0))
            listener.listen()
            client = socket.create_connection(listener.getsockname())        # 103
            accepted, _ = listener.accept()        # cloned from the listener
            socket.send_fds(child_end, [b"x"], [udp.fileno(), listener.fileno(),
                                                client.fileno(), accepted.fileno()])
            return 0
        run_in_cgroup(cgroup.path, child)
        _, fds, _, _ = socket.recv_fds(parent_end, 1, 4)
        udp, listener, client, accepted = fds
        try:
            assert records[udp] == {"serial": 100, "protocol": IPPROTO_UDP, "marks": 0}
            assert records[listener] == {"serial": 102, "protocol": IPPROTO_TCP, "marks": 0}
            assert records[client].serial == 103
            # BPF_F_CLONE: the accepted socket, never created through
            # sock_create, carries a copy of the listener's storage.
            assert records[accepted] == records[listener]
            assert dict(coll.globals.items()) == {
                "next_serial": 104, "udp_open": 1, "udp_released_serials": 101}

            records[udp] = {"serial": 100, "protocol": IPPROTO_UDP, "marks": 5}
            assert records[udp].marks == 5
        finally:
            for fd in fds:
                os.close(fd)
        # The child has exited; closing the last fds releases the sockets.
        assert (coll.globals["udp_open"], coll.globals["udp_released_serials"]) == (0, 201)


@pytest.mark.kernel
def test_socket_storage_from_python(objects: dict[str, Path]) -> None:
    require_root("creating maps")
    with load(objects["maps_sk_storage"]) as coll, \
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        records = coll.maps["sock_records"]
        fd = sock.fileno()
        with pytest.raises(KeyError) as missing:
            records[sock]
        assert isinstance(missing.value, NoStorageError)
        assert str(missing.value) == f"map 'sock_records': socket fd {fd} has no storage"
        # The failed lookup created nothing.
        assert sock not in records
        assert records.get(fd, "none") == "none"
        with pytest.raises(NoStorageError):
            del records[sock]

        records[sock] = {"serial": 7, "marks": 9}
        assert records[fd] == {"serial": 7, "protocol": 0, "marks": 9}
        with pytest.raises(SyscallError, match=rf"^map 'sock_records': socket fd {fd}: "
                                               r"BPF_MAP_UPDATE_ELEM failed: .*EEXIST"):
            records.update(sock, {"serial": 8}, bpf.BPF_NOEXIST)
        del records[sock]
        assert sock not in records

        with open("/dev/null") as not_a_socket:
            with pytest.raises(SyscallError, match=r"^map 'sock_records': socket fd \d+: "
                                                   r"BPF_MAP_LOOKUP_ELEM failed: .*ENOTSOCK"):
                records[not_a_socket.fileno()]
        with pytest.raises(BpfError, match="must be an open socket or its file descriptor"):
            records["eth0"]
        with pytest.raises(BpfError, match=r"^map 'sock_records': cannot be listed: its keys "
                                           r"are sockets"):
            list(records)


# ------------------------------------------- ring buffer, per-CPU, cgroup storage


@pytest.mark.kernel
def test_getsockopt_fills_ring_per_cpu_lru_and_cgroup_storage(
        objects: dict[str, Path], cgroup: TemporaryCgroup) -> None:
    cpu = max(os.sched_getaffinity(0))
    cpus = possible_cpus()
    with Attached(objects["maps_sockopt_events"], cgroup) as attached:
        coll = attached.coll
        events = coll.maps["events"]
        assert isinstance(events, RingBufMap)
        with events.reader("struct event") as reader:
            assert reader.poll(timeout=0.05) == []     # nothing yet: waits, then gives up

            def child() -> int:
                os.sched_setaffinity(0, {cpu})
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.getsockopt(SOL_IP, IP_TTL)
                s.getsockopt(SOL_IP, IP_TOS)
                s.getsockopt(SOL_IP, IP_TTL, 16)
                return os.getpid()
            pid = run_in_cgroup(cgroup.path, child)
            assert reader.poll(timeout=5) == [
                {"pid": pid, "level": SOL_IP, "optname": IP_TTL, "optlen": 4},
                {"pid": pid, "level": SOL_IP, "optname": IP_TOS, "optlen": 4},
                # The program sees the length the kernel answered, not the buffer's.
                {"pid": pid, "level": SOL_IP, "optname": IP_TTL, "optlen": 4}]
            assert reader.read() == []                  # consumed
            reader_fd = reader.fd
        assert reader.fd == -1 and not fd_is_open(reader_fd)

        per_cpu = coll.maps["per_cpu"]
        assert isinstance(per_cpu, PerCpuMap)
        expected = [{"calls": 0, "optlen_sum": 0}] * cpus
        expected[cpu] = {"calls": 3, "optlen_sum": 12}
        assert per_cpu[0] == expected
        by_optname = dict(coll.maps["per_cpu_by_optname"].items())
        assert by_optname == {IP_TTL: [2 if i == cpu else 0 for i in range(cpus)],
                              IP_TOS: [1 if i == cpu else 0 for i in range(cpus)]}
        assert dict((tuple(k.values()), v) for k, v in coll.maps["by_option"].items()) == \
            {(SOL_IP, IP_TTL): 2, (SOL_IP, IP_TOS): 1}

        per_cgroup = coll.maps["per_cgroup"]
        assert isinstance(per_cgroup, CgroupStorageMap)
        key = {"cgroup_inode_id": cgroup_id(cgroup.path),
               "attach_type": bpf.BPF_CGROUP_GETSOCKOPT}
        assert list(per_cgroup.items()) == [
            (key, {"getsockopts": 3, "last_optname": IP_TTL, "pad": 0})]
        assert per_cgroup[(key["cgroup_inode_id"], key["attach_type"])].getsockopts == 3

        # Written from Python, counted on by the program on one CPU.
        per_cpu[0] = [{"calls": 10 * (i + 1)} for i in range(cpus)]
        per_cgroup[key] = {"getsockopts": 100}
        def one_more() -> None:
            os.sched_setaffinity(0, {cpu})
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM).getsockopt(SOL_IP, IP_TOS)
        run_in_cgroup(cgroup.path, one_more)
        assert [v.calls for v in per_cpu[0]] == \
            [10 * (i + 1) + (i == cpu) for i in range(cpus)]
        assert per_cgroup[key].getsockopts == 101
        per_cpu[0] = {"calls": 5}                       # one value for every CPU
        assert [v.calls for v in per_cpu[0]] == [5] * cpus

        # The storage belongs to the cgroup: it outlives the attachment, and
        # the program attached again counts on in it.
        attached.detach()
        assert list(per_cgroup.keys()) == [key]
        with coll["observe"].attach(cgroup.path):
            run_in_cgroup(cgroup.path, lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                          .getsockopt(SOL_IP, IP_TTL))
        assert per_cgroup[key] == {"getsockopts": 102, "last_optname": IP_TTL, "pad": 0}


@pytest.mark.kernel
def test_ring_buffer_wraps_around_its_end(objects: dict[str, Path],
                                          cgroup: TemporaryCgroup) -> None:
    record = 8 + 16              # header and struct event
    rounds = 600                 # 600 records fit; two rounds cross the end
    with Attached(objects["maps_sockopt_events"], cgroup) as attached:
        events = attached.coll.maps["events"]
        assert rounds * record < events.spec.max_entries < 2 * rounds * record
        with events.reader(decode=lambda raw: struct.unpack("<Iiii", raw)[2]) as reader:
            for optname in (IP_TTL, IP_TOS):
                def child(name: int = optname) -> None:
                    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    for _ in range(rounds):
                        s.getsockopt(SOL_IP, name)
                run_in_cgroup(cgroup.path, child)
                got: list[int] = []
                while len(got) < rounds:
                    more = reader.poll(timeout=5)
                    assert more, f"only {len(got)} of {rounds} records arrived"
                    got += more
                assert got == [optname] * rounds


@pytest.mark.kernel
def test_discarded_ring_records_are_skipped(objects: dict[str, Path],
                                            cgroup: TemporaryCgroup) -> None:
    with Attached(objects["maps_sockopt_events"], cgroup) as attached:
        coll = attached.coll
        with coll.maps["events"].reader("event") as reader:
            def child() -> None:
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                for optname in (IP_TTL, IP_FREEBIND, IP_TOS):
                    s.getsockopt(SOL_IP, optname)
            run_in_cgroup(cgroup.path, child)
            assert [r.optname for r in reader.poll(timeout=5)] == [IP_TTL, IP_TOS]
            assert reader.read() == []
        # The program ran for IP_FREEBIND too; only its record was dropped.
        assert coll.maps["by_option"][{"level": SOL_IP, "optname": IP_FREEBIND}] == 1


@pytest.mark.kernel
def test_ring_reader_needs_a_known_type(objects: dict[str, Path]) -> None:
    require_root("creating maps")
    with load(objects["maps_sockopt_events"]) as coll:
        with pytest.raises(BpfError, match=r"^map 'events': no BTF type 'struct nothing'"):
            coll.maps["events"].reader("struct nothing")
        with pytest.raises(BpfError, match=r"^map 'events': a ring buffer has no keys; read "
                                           r"its records with map.reader\(\)"):
            coll.maps["events"][0]
        with pytest.raises(BpfError, match=r"^map 'events': cannot be listed: its records "
                                           r"are consumed"):
            list(coll.maps["events"].items())


@pytest.mark.kernel
def test_a_perf_event_array_without_max_entries_gets_one_slot_per_cpu(
        objects: dict[str, Path]) -> None:
    """The kernel refuses max_entries 0 (EINVAL); libbpf sizes such an array
    to the possible CPUs, and so does the loader."""
    require_root("loading an object")
    spec = read_object(objects["maps_without_keys"])
    assert spec.maps["events"].max_entries == 0
    with load(spec) as coll:
        events = coll.maps["events"]
        info = bpf.obj_get_info_by_fd(events.fd, "map")
        assert isinstance(info, bpf.MapInfo)
        assert info.max_entries == events.spec.max_entries == possible_cpus()
        assert (events.kind, coll.maps["protocols"].kind) == ("perf event array",
                                                             "bloom filter")
    assert spec.maps["events"].max_entries == 0      # the spec is left as declared


@pytest.mark.kernel
def test_load_names_the_map_whose_definition_is_refused(objects: dict[str, Path]) -> None:
    require_root("loading BTF")
    spec = read_object(objects["maps_sockopt_events"])
    spec.maps["events"].max_entries = 3 * PAGE
    with pytest.raises(BpfError, match=r"^map 'events': a ring buffer's max_entries"):
        load(spec)
    spec = read_object(objects["maps_sk_storage"])
    spec.maps["sock_records"].flags &= ~bpf.BPF_F_NO_PREALLOC
    with pytest.raises(BpfError, match=r"^map 'sock_records': socket storage needs"):
        load(spec)


# ------------------------------------------------------------- pybpfc maps


@pytest.mark.kernel
def test_pybpfc_maps_decodes_every_kind_from_a_pin(objects: dict[str, Path],
                                                   cgroup: TemporaryCgroup, bpffs: Path) -> None:
    cpu = max(os.sched_getaffinity(0))
    pins = bpffs / "events"
    loaded = pybpfc_cli("load", objects["maps_sockopt_events"], "--cgroup", cgroup.path,
                        "--pin", pins)
    assert loaded.returncode == 0, loaded.stderr
    try:
        def child() -> None:
            os.sched_setaffinity(0, {cpu})
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.getsockopt(SOL_IP, IP_TTL)
            s.getsockopt(SOL_IP, IP_TOS, 8)
        run_in_cgroup(cgroup.path, child)
        shown = pybpfc_cli("maps", pins)
        assert shown.returncode == 0, shown.stderr
        lines = shown.stdout.splitlines()
        assert "map events (ring buffer): not listed: its records are consumed in order " \
               "with map.reader(), not stored under keys" in lines
        at = lines.index(f"map per_cpu (per-CPU map, 1 entries, {possible_cpus()} CPUs)")
        assert lines[at + 1] == "  0:"
        assert lines[at + 2 + cpu] == f"    cpu{cpu}: {{calls: 2, optlen_sum: 8}}"
        assert "map by_option (2 entries)" in lines
        assert "  {level: 0, optname: 2}: 1" in lines
        assert "  {level: 0, optname: 1}: 1" in lines
        assert "map per_cgroup (cgroup storage, 1 entries)" in lines
        assert (f"  {{cgroup_inode_id: {cgroup_id(cgroup.path)}, attach_type: "
                f"{bpf.BPF_CGROUP_GETSOCKOPT}}}: {{getsockopts: 2, last_optname: 1, pad: 0}}"
                in lines)
    finally:
        detached = pybpfc_cli("detach", pins)
    assert detached.returncode == 0, detached.stderr


@pytest.mark.kernel
def test_pybpfc_maps_of_an_object_says_why_socket_storage_is_not_listed(
        objects: dict[str, Path]) -> None:
    require_root("loading an object")
    shown = pybpfc_cli("maps", objects["maps_sk_storage"])
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines() == [
        "map sock_records (socket storage): not listed: its keys are sockets, which only a "
        "process holding them can look up (map[sock])",
        "global next_serial = 100",
        "global udp_open = 0",
        "global udp_released_serials = 0"]
