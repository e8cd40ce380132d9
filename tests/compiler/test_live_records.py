"""What the compiler leaves in an object so that `pybpfc run` can report on
a ring buffer: the struct its records have (a hidden global of that type
puts it in BTF) and a hidden count of the records lost for room; and how
the runtime decodes records with them."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from pybpfc.compiler.driver import compile_source
from pybpfc.compiler.errors import Source
from pybpfc.runtime.btf_types import Kind
from pybpfc.runtime.elf import read_object
from pybpfc.runtime.live import record_decoder

PROGRAM = """
from pybpfc import ALLOW, RingBuf, SockContext, cgroup_sock_create, struct, u16, u32


@struct
class Made:
    family: u32
    kind: u32


@struct
class Other:
    port: u32
    size: u32


made: RingBuf = RingBuf(max_entries=4096)
made_x: RingBuf = RingBuf(max_entries=4096)


@cgroup_sock_create
def show(ctx: SockContext) -> int:
    record = Made()
    record.family = ctx.family
    record.kind = ctx.type
    made.output(record)
    made.output(record)
    made.output(u16(7))
    other = Other()
    made_x.output(other)
    return ALLOW
"""


def test_hidden_globals_name_each_buffers_record_struct_and_lost_count() -> None:
    spec = read_object(compile_source(Source("made.py", PROGRAM)).elf)
    assert sorted(spec.data[".bss"].variables) == [
        "__pybpfc_lost_made", "__pybpfc_lost_made_x",
        "__pybpfc_record_made_0", "__pybpfc_record_made_x_0"]


def test_records_decode_as_the_struct_the_program_puts_there() -> None:
    spec = read_object(compile_source(Source("made.py", PROGRAM)).elf)
    made = record_decoder(SimpleNamespace(btf=spec.btf, name="made"), spec)  # type: ignore[arg-type]
    record = (2).to_bytes(4, "little") + (1).to_bytes(4, "little")
    assert made(record) == {"family": 2, "kind": 1}
    assert made((7).to_bytes(2, "little")) == 7
    assert made(b"abc") == b"abc"
    # Another buffer's struct of the same size (Other) is not taken for Made.
    made_x = record_decoder(SimpleNamespace(btf=spec.btf, name="made_x"), spec)  # type: ignore[arg-type]
    assert made_x(record) == {"port": 2, "size": 1}


# A struct that only a local variable has, sent with output(): from a cgroup
# hook and from a tracing hook (a raw tracepoint: compiling it reads nothing
# of the kernel's).
SENT_ONLY = {
    "cgroup": ("from pybpfc import ALLOW, RingBuf, SysctlContext, cgroup_sysctl, struct, u32\n",
               "@cgroup_sysctl\ndef watch(ctx: SysctlContext) -> int:\n"
               "    s = Sent()\n    s.a = ctx.write\n    events.output(s)\n    return ALLOW\n"),
    "tracing": ("from pybpfc import RawTracepointArgs, RingBuf, raw_tracepoint, struct, u32\n",
                "@raw_tracepoint(\"sys_enter\")\ndef watch(ctx: RawTracepointArgs) -> int:\n"
                "    s = Sent()\n    s.a = u32(ctx.args[1])\n    events.output(s)\n    return 0\n"),
}


@pytest.mark.parametrize("hook", sorted(SENT_ONLY))
def test_a_struct_only_sent_is_in_btf_once_through_its_hidden_global(hook: str) -> None:
    head, body = SENT_ONLY[hook]
    text = (head + "\nLICENSE = \"GPL\"\n\n@struct\nclass Sent:\n    a: u32\n    b: u32\n\n"
            "events: RingBuf = RingBuf(max_entries=4096)\n\n" + body)
    spec = read_object(compile_source(Source("sent.py", text)).elf)
    btf = spec.btf
    assert btf is not None
    named = [i for i, t in enumerate(btf.types) if t.kind == Kind.STRUCT and t.name == "Sent"]
    assert len(named) == 1
    hidden = spec.data[".bss"].variables["__pybpfc_record_events_0"]
    assert btf.resolve(hidden.type_id) == named[0]
    # The hook's BTF prototype is its one context argument, nothing more.
    func = next(t for t in btf.types if t.kind == Kind.FUNC and t.name == "watch")
    assert len(btf.types[func.type].members) == 1
    decode = record_decoder(SimpleNamespace(btf=btf, name="events"), spec)  # type: ignore[arg-type]
    assert decode((5).to_bytes(4, "little") + (6).to_bytes(4, "little")) == {"a": 5, "b": 6}
