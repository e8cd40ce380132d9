"""Compiled integer arithmetic, comparisons and control flow, run in the
kernel, agree with the language's documented semantics
(pybpfc.compiler.semantics) on generated cases.

Inputs are globals set from Python after loading, so nothing can be folded
at compile time; each generated program computes many expressions into
result globals, runs once through BPF_PROG_TEST_RUN, and every result is
compared with the reference model.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Union

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support import require_root
from pybpfc.compiler import semantics
from pybpfc.compiler.driver import compile_source
from pybpfc.compiler.errors import Source
from pybpfc.compiler.types import INT_TYPES, IntType
from pybpfc.runtime.collection import load
from pybpfc.runtime.disasm import objdump
from pybpfc.runtime.elf import read_object

# Host-order integers: be16 and be32 take no arithmetic (their rules are
# tests/bad/packet_*.py and the packet kernel tests).
TYPES = [t for t in INT_TYPES.values() if not t.network]
VARS_PER_TYPE = 3
EXPRS_PER_PROGRAM = 25
PROGRAMS = 45          # 45 x 25 = 1,125 cases per run
ARITH = ["+", "-", "*", "//", "%", "<<", ">>", "&", "|", "^"]
COMPARE = ["<", "<=", ">", ">=", "==", "!="]


@dataclass
class Expr:
    """A generated expression: its source text and its value under the
    reference semantics, given the inputs."""
    text: str
    value: Callable[[dict[str, int]], Union[int, bool]]


def var_name(ty: IntType, i: int) -> str:
    return f"{ty.name}_{i}"


def literal(ty: IntType) -> st.SearchStrategy[Expr]:
    edges = [ty.min, ty.max, 0, 1, 2, 3, 7, ty.bits - 1, ty.bits, ty.bits + 1]
    values = st.one_of(st.sampled_from([v for v in edges if ty.fits(v)]),
                       st.integers(ty.min, ty.max))
    return values.map(lambda v: Expr(f"({v})", lambda env, v=v: v))


def variable(ty: IntType) -> st.SearchStrategy[Expr]:
    return st.integers(0, VARS_PER_TYPE - 1).map(
        lambda i: Expr(var_name(ty, i), lambda env, n=var_name(ty, i): env[n]))


def typed(ty: IntType, depth: int) -> st.SearchStrategy[Expr]:
    """An expression of type ``ty`` that is not a compile-time constant."""
    if depth <= 0:
        return variable(ty)
    sub = typed(ty, depth - 1)
    operand = st.one_of(sub, literal(ty))
    # A literal shift count must not be negative (a compile error); a typed
    # one may be anything and is taken modulo the width.
    shift_count = st.one_of(sub, st.integers(0, min(ty.max, 70)).map(
        lambda v: Expr(f"({v})", lambda env, v=v: v)))

    def binop(op: str, left: Expr, right: Expr) -> Expr:
        return Expr(f"({left.text} {op} {right.text})",
                    lambda env: semantics.binary(op, left.value(env), right.value(env), ty))

    def unop(op: str, x: Expr) -> Expr:
        return Expr(f"({op}{x.text})", lambda env: semantics.unary(op, x.value(env), ty))

    def convert(other: IntType, x: Expr) -> Expr:
        return Expr(f"{ty.name}({x.text})", lambda env: semantics.convert(x.value(env), ty))

    def from_bool(b: Expr) -> Expr:
        return Expr(f"{ty.name}({b.text})", lambda env: int(bool(b.value(env))))

    def choose(cond: Expr, a: Expr, b: Expr) -> Expr:
        return Expr(f"({a.text} if {cond.text} else {b.text})",
                    lambda env: a.value(env) if cond.value(env) else b.value(env))

    return st.one_of(
        sub,
        st.sampled_from(ARITH).flatmap(lambda op: st.builds(
            binop, st.just(op), sub, shift_count if op in ("<<", ">>") else operand)),
        st.builds(unop, st.sampled_from(["-", "~"]), sub),
        st.sampled_from(TYPES).flatmap(lambda other: typed(other, depth - 1).map(
            lambda x: convert(other, x))),
        st.builds(from_bool, condition(ty, depth - 1)),
        st.builds(choose, condition(ty, depth - 1), sub, sub),
    )


def condition(ty: IntType, depth: int) -> st.SearchStrategy[Expr]:
    sub = typed(ty, max(depth, 0))

    def chain(ops: list[str], operands: list[Expr]) -> Expr:
        text = operands[0].text + "".join(f" {op} {x.text}" for op, x in zip(ops, operands[1:]))

        def value(env: dict[str, int]) -> bool:
            vals = [x.value(env) for x in operands]
            return all(semantics.compare(op, vals[i], vals[i + 1]) for i, op in enumerate(ops))
        return Expr(f"({text})", value)

    def boolop(op: str, a: Expr, b: Expr) -> Expr:
        if op == "and":
            return Expr(f"({a.text} and {b.text})", lambda env: bool(a.value(env)) and bool(b.value(env)))
        return Expr(f"({a.text} or {b.text})", lambda env: bool(a.value(env)) or bool(b.value(env)))

    compare = st.integers(1, 3).flatmap(lambda n: st.builds(
        chain, st.lists(st.sampled_from(COMPARE), min_size=n, max_size=n),
        st.lists(sub, min_size=n + 1, max_size=n + 1)))
    return st.one_of(
        compare,
        st.builds(boolop, st.sampled_from(["and", "or"]), compare, compare),
        compare.map(lambda c: Expr(f"(not {c.text})", lambda env: not c.value(env))),
    )


@st.composite
def programs(draw: st.DrawFn) -> tuple[str, dict[str, int], list[tuple[str, IntType, Expr]]]:
    inputs = {var_name(ty, i): draw(st.integers(ty.min, ty.max))
              for ty in TYPES for i in range(VARS_PER_TYPE)}
    results = []
    for n in range(EXPRS_PER_PROGRAM):
        ty = draw(st.sampled_from(TYPES))
        results.append((f"r{n}", ty, draw(typed(ty, draw(st.integers(1, 3))))))
    names = sorted({t.name for t in TYPES})
    lines = [f"from pybpfc import SkBuff, socket_filter, {', '.join(names)}", ""]
    lines += [f"{name}: {name.split('_')[0]} = 0" for name in inputs]
    lines += [f"{r}: {ty.name} = 0" for r, ty, _ in results]
    lines += ["", "", "@socket_filter", "def compute(skb: SkBuff) -> int:",
              "    global " + ", ".join(r for r, _, _ in results)]
    lines += [f"    {r} = {e.text}" for r, _, e in results]
    lines += ["    return 0", ""]
    return "\n".join(lines), inputs, results


@settings(max_examples=PROGRAMS, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(programs())
def test_kernel_agrees_with_reference_semantics(
        program: tuple[str, dict[str, int], list[tuple[str, IntType, Expr]]]) -> None:
    require_root("loading programs")
    text, inputs, results = program
    elf = compile_source(Source("semantics.py", text)).elf
    with load(elf) as coll:
        for name, value in inputs.items():
            coll.globals[name] = value
        run = coll["compute"].test_run(bytes(64))
        assert run.retval == 0
        mismatches = []
        for name, ty, expr in results:
            got = coll.globals[name]
            want = semantics.wrap(int(expr.value(inputs)), ty)
            if got != want:
                mismatches.append(f"{name}: {ty} {expr.text} = {got}, expected {want}")
    assert not mismatches, "\n".join(mismatches) + "\ninputs: " + repr(inputs)


def run_once(imports: str, globals_: list[str], body: list[str]) -> tuple[bytes, dict[str, int]]:
    """A socket filter with these globals and this body, compiled, loaded
    and run once: its object and its globals afterwards."""
    names = [line.split(":")[0] for line in globals_]
    text = "\n".join([f"from pybpfc import SkBuff, socket_filter, {imports}", *globals_, "",
                      "@socket_filter", "def compute(skb: SkBuff) -> int:",
                      f"    global {', '.join(names)}", *(f"    {line}" for line in body),
                      "    return 0", ""])
    elf = compile_source(Source("once.py", text)).elf
    with load(elf) as coll:
        assert coll["compute"].test_run(bytes(64)).retval == 0
        return elf, {name: coll.globals[name] for name in names}


def test_min_and_max_of_literals_are_literals_that_take_their_use_s_type() -> None:
    # As `1 + 2` does, `max(2**63 - 1, 1)` takes the type it is used as:
    # here a u64 and a u8, which an i64 (the type of a literal of its own)
    # would not fit without a conversion.
    require_root("loading programs")
    _, after = run_once("u8, u64", ["wide: u64 = 0", "narrow: u8 = 0"],
                        ["wide = max(0x7FFF_FFFF_FFFF_FFFF, 1) + 1", "narrow = min(300, 255)"])
    assert after == {"wide": 1 << 63, "narrow": 255}


def test_atomic_add_as_a_statement_and_for_its_old_value() -> None:
    # A statement's add is BPF's plain atomic add; one whose old value is
    # used is the fetching add, which gives that value.
    require_root("loading programs")
    elf, after = run_once("atomic_add, u64", ["total: u64 = 5", "before: u64 = 0"],
                          ["atomic_add(total, 2)", "before = atomic_add(total, 3)"])
    listing = objdump(read_object(elf))
    assert "lock *(u64 *)" in listing and "atomic64_fetch_add(" in listing
    assert after == {"total": 10, "before": 7}


def test_a_list_holds_narrower_values_converted_to_its_element_type() -> None:
    # The elements were once stored at their own width: an i8 -3 in a
    # list[i32] became one byte, read back as 253.
    require_root("loading programs")
    _, after = run_once("i8, i32", ["small: i8 = -3", "first: i32 = 0", "rest: i32 = 0"],
                        ["xs: list[i32] = [small, small, 7]", "first = xs[0]",
                         "rest = xs[1] + xs[2]"])
    assert after == {"small": -3, "first": -3, "rest": 4}
