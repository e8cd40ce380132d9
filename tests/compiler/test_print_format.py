"""print()'s format string, as the object hands it to bpf_trace_printk:
no newline of its own (the trace buffer ends each line), and found again
in the object by the runtime, which keeps only its own program's lines."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from pybpfc.compiler.driver import compile_source
from pybpfc.compiler.errors import Source
from pybpfc.runtime.elf import read_object
from pybpfc.runtime.trace_output import format_pattern, parse_trace_line, print_formats

PROGRAM = """
from pybpfc import ALLOW, SockContext, cgroup_sock_create, i32


@cgroup_sock_create
def show(ctx: SockContext) -> int:
    print("family", ctx.family, "100%")
    if ctx.type == 2:
        print("datagram, signed", i32(-1))
    print()
    return ALLOW
"""


def test_formats_have_no_newline_and_are_found_in_the_object() -> None:
    spec = read_object(compile_source(Source("show.py", PROGRAM)).elf)
    assert sorted(print_formats(spec)) == [b"", b"datagram, signed %lld", b"family %llu 100%%"]


def test_lines_are_matched_to_their_formats() -> None:
    pattern = format_pattern([b"family %llu 100%%", b"datagram, signed %lld"])
    assert pattern.fullmatch("family 2 100%")
    assert pattern.fullmatch("datagram, signed -1")
    assert not pattern.fullmatch("family -2 100%")
    assert not pattern.fullmatch("family 2 100%%")
    assert not pattern.fullmatch("another program's line")
    assert not format_pattern([]).fullmatch("")


def test_trace_lines_are_parsed_with_or_without_flags() -> None:
    line = parse_trace_line("  python3-6424    [001] ...11  1692.901119: bpf_trace_printk: "
                            "family 2 100%")
    assert line is not None
    assert (line.task, line.pid, line.cpu, line.time, line.message) == \
        ("python3", 6424, 1, 1692.901119, "family 2 100%")
    spaced = parse_trace_line(" <...>-77 (  77) [000] 5.000001: bpf_trace_printk: x-1 [2]")
    assert spaced is not None and (spaced.task, spaced.pid, spaced.message) == \
        ("<...>", 77, "x-1 [2]")
    assert parse_trace_line("") is None
    assert parse_trace_line("CPU:1 [LOST 12 EVENTS]") is None


def test_a_watcher_without_tracefs_warns_and_still_watches(monkeypatch: Any) -> None:
    """Where the trace buffer cannot be read, the programs still run under
    `pybpfc run`: a warning says their print() lines will not be shown."""
    from pybpfc.runtime import live
    from pybpfc.runtime.errors import BpfError

    def unreachable(formats: Any) -> Any:
        raise BpfError("print() output: cannot reach tracefs: Operation not permitted")

    monkeypatch.setattr(live, "TracePrints", unreachable)
    spec = read_object(compile_source(Source("show.py", PROGRAM)).elf)
    with live.watch(SimpleNamespace(spec=spec, maps={})) as watcher:  # type: ignore[arg-type]
        assert watcher.sources == []
        assert watcher.warnings == ["print() lines will not be shown: print() output: cannot "
                                    "reach tracefs: Operation not permitted"]
        assert watcher.poll(timeout=0) == []
