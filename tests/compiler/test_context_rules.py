"""Context field rights, generated from the hook table.

For every hook and every field of its context: a read the kernel forbids
and a write the kernel forbids are compile errors at the field's line and
column; a program doing every allowed read and write compiles and the real
kernel verifier accepts it (through bpftool).
"""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import loadall
from pybpfc import abi
from pybpfc.compiler.driver import check_source, compile_source
from pybpfc.compiler.check.hook_targets import example_hook
from pybpfc.compiler.errors import CompileError, Source

# Each hook as a program uses it (a tracepoint's fields are the kernel's).
HOOKS = [example_hook(h) for h in abi.HOOKS]

HEADER = "from pybpfc import ALLOW, {ctx}, {decorator}\n\n\n{written}\ndef prog(ctx: {ctx}) -> int:\n"
BODY_LINE = 6   # the first line of the function body in a generated program


def program(hook: abi.Hook, body: list[str]) -> str:
    head = HEADER.format(ctx=hook.context.python_name, decorator=hook.decorator,
                         written=hook.example_decorator)
    return head + "".join(f"    {line}\n" for line in body) + "    return ALLOW\n"


def read_expr(f: abi.Field, ctx: abi.Context = abi.BPF_SOCK) -> str:
    if f.kind == "window":
        return f"ctx.{f.name}[0]"
    if f.kind == "sock":
        return f"ctx.{f.name}.family"
    if f.count > 1:
        # The first element that is an integer (not a typed kernel pointer).
        pointers = {i for name, i, _ in ctx.typed_pointers if name == f.name}
        return f"ctx.{f.name}[{min(set(range(f.count)) - pointers)}]"
    return f"ctx.{f.name}"


def write_stmt(f: abi.Field, value: str = "0") -> str:
    if f.count > 1:
        return f"ctx.{f.name}[0] = {value}"
    return f"ctx.{f.name} = {value}"


def cases(kind: str) -> list[tuple[abi.Hook, abi.Field]]:
    out = []
    for hook in HOOKS:
        for f in hook.context.fields:
            allowed = hook.readable if kind == "read" else hook.writable
            if f.name not in allowed:
                out.append((hook, f))
    return out


def ident(case: tuple[abi.Hook, abi.Field]) -> str:
    return f"{case[0].decorator}-{case[1].name}"


def compile_error(text: str) -> CompileError:
    with pytest.raises(CompileError) as info:
        check_source(Source("prog.py", text))
    return info.value


@pytest.mark.parametrize("case", cases("read"), ids=ident)
def test_forbidden_read_is_an_error_at_the_field(case: tuple[abi.Hook, abi.Field]) -> None:
    hook, f = case
    err = compile_error(program(hook, [f"x = {read_expr(f)}"]))
    assert err.pos is not None
    assert (err.pos.line, err.pos.col) == (BODY_LINE, len("    x = ctx.") + 1), err.render()
    assert f.name in err.message


@pytest.mark.parametrize("case", cases("write"), ids=ident)
def test_forbidden_write_is_an_error_at_the_field(case: tuple[abi.Hook, abi.Field]) -> None:
    hook, f = case
    err = compile_error(program(hook, [write_stmt(f)]))
    assert err.pos is not None
    assert (err.pos.line, err.pos.col) == (BODY_LINE, len("    ctx.") + 1), err.render()
    assert f.name in err.message


def allowed_body(hook: abi.Hook) -> list[str]:
    body = []
    for f in hook.context.fields:
        # (ends of buffers are never read; packets are read through ctx.header)
        if f.name in hook.readable and f.kind not in ("window_end", "packet", "packet_end",
                                                       "packet_meta"):
            body.append(f"r_{f.name} = {read_expr(f, hook.context)}")
    for f in hook.context.fields:
        if f.name in hook.writable:
            body.append(write_stmt(f))
    return body


@pytest.mark.kernel
@pytest.mark.parametrize("hook", HOOKS, ids=lambda h: h.decorator)
def test_every_allowed_access_passes_the_kernel_verifier(
        hook: abi.Hook, tmp_path: Path, bpffs: Path) -> None:
    text = program(hook, allowed_body(hook))
    obj = tmp_path / "prog.o"
    obj.write_bytes(compile_source(Source(str(tmp_path / "prog.py"), text)).elf)
    result = loadall(obj, bpffs / "p")
    assert result.returncode == 0, text + result.stderr
    assert (bpffs / "p" / "prog").exists()
