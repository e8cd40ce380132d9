"""Programs for fuzzing the compiler.

- ``valid_program``: a program built from the language's grammar and typing
  rules (docs/language.md), one hook from ``pybpfc.abi`` with the context
  fields it may read and write, globals, structs, lists, bytearrays, loops,
  helpers, kernel helper calls.  Each should compile, and the kernel should
  accept the object.
- ``nearly_valid_program``: a valid program with one small fault.
- ``mutated_example``: a program of ``examples/`` with tokens deleted,
  duplicated, swapped, or replaced by numbers and names.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence

from pybpfc import abi
from pybpfc.compiler.check.hook_targets import example_hook

from .choose import Chooser, chance
from .packets import packet_statement

REPO_ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = [p.read_text() for p in sorted((REPO_ROOT / "examples").glob("*.py"))]

RANGES = {
    "u8": (0, (1 << 8) - 1), "u16": (0, (1 << 16) - 1),
    "u32": (0, (1 << 32) - 1), "u64": (0, (1 << 64) - 1),
    "i8": (-(1 << 7), (1 << 7) - 1), "i16": (-(1 << 15), (1 << 15) - 1),
    "i32": (-(1 << 31), (1 << 31) - 1), "i64": (-(1 << 63), (1 << 63) - 1),
}
INT_TYPES = tuple(RANGES)
# What atomic_add works on: 32- and 64-bit integers.
ATOMIC_TYPES = ("u32", "i32", "u64", "i64")
ARITHMETIC = ("+", "-", "*", "//", "%", "&", "|", "^")
COMPARISONS = ("<", "<=", ">", ">=", "==", "!=")
FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}
AUGMENTED = ("+=", "-=", "*=", "//=", "%=", "&=", "|=", "^=")
CONTEXT_PARAMETER = "ctx"


@dataclass
class Var:
    name: str
    type: str           # an int type, "bool", "list", "bytearray" or a struct name
    elem: str = ""      # list element type
    length: int = 0     # list / bytearray length
    is_global: bool = False


@dataclass
class Struct:
    name: str
    fields: list[tuple[str, str]]      # (name, int type)


@dataclass
class _Function:
    """What an expression may use where it is being generated."""
    in_hook: bool
    locals: list[Var] = field(default_factory=list)
    loop_depth: int = 0
    in_while: bool = False
    loops_left: int = 3     # the verifier walks every iteration of every loop


class _Generator:
    def __init__(self, chooser: Chooser, hook: abi.Hook, avoid: frozenset[str] = frozenset(),
                 maps: bool = False, hooks: Sequence[abi.Hook] = abi.HOOKS):
        self.c = chooser
        self.hook = example_hook(hook)     # a tracepoint's context is the kernel's
        self.avoid = avoid      # kernel helpers the program must not call
        self.with_maps = maps
        self.maps: list[tuple[str, str, str]] = []    # name, kind, value type
        self.hooks = hooks      # the hooks a further hook function is chosen from
        self.imports: set[str] = {hook.decorator, hook.context.python_name}
        self.counter = 0
        self.globals: list[Var] = []
        self.structs: list[Struct] = []
        self.helpers: list[tuple[str, list[tuple[str, str]], str]] = []   # name, params, returns
        self.fn = _Function(in_hook=True)
        self.constants: list[tuple[str, Optional[str]]] = []   # name, type (None: untyped)

    def fresh(self, stem: str) -> str:
        self.counter += 1
        return f"{stem}{self.counter}"

    # ----------------------------------------------------------- literals

    def literal(self, ty: str) -> str:
        low, high = RANGES[ty]
        value = self.c.choice([0, 1, 2, 7, 100, low, high, high // 2,
                               self.c.integer(max(low, -1000), min(high, 1000))])
        if value > high or value < low:
            value = 0
        if ty.startswith("u") and value > 9 and chance(self.c, 30):
            return hex(value)
        return f"({value})" if value < 0 else str(value)

    # -------------------------------------------------------- expressions

    def visible(self) -> list[Var]:
        return self.fn.locals + self.globals

    def context_reads(self, ty: str, indexed: bool = True) -> list[str]:
        """``ctx.field`` expressions of type ``ty`` this hook may read; with
        ``indexed``, optval accesses too, their offset left as ``{index}``."""
        if not self.fn.in_hook:
            return []
        out = []
        for f in self.hook.context.fields:
            if f.name not in self.hook.readable or f.kind != ty:
                continue
            if f.count > 1:
                pointers = {i for name, i, _ in self.hook.context.typed_pointers
                            if name == f.name}
                index = self.c.integer(0, f.count - 1)
                if index not in pointers:
                    out.append(f"{CONTEXT_PARAMETER}.{f.name}[{index}]")
            else:
                out.append(f"{CONTEXT_PARAMETER}.{f.name}")
        if "sk" in self.hook.readable and ty in ("u32", "u16", "i32"):
            for f in abi.BPF_SOCK.fields:
                if f.kind == ty and f.count == 1:
                    out.append(f"{CONTEXT_PARAMETER}.sk.{f.name}")
        if "optval" in self.hook.readable and indexed:
            if ty == "u8":
                out.append(f"{CONTEXT_PARAMETER}.optval[{{index}}]")
            if ty in ("u16", "u32", "u64"):
                out.append(f"{CONTEXT_PARAMETER}.optval.{ty}({{index}})")
        if "optval" in self.hook.readable and ty == "u32":
            out.append(f"len({CONTEXT_PARAMETER}.optval)")
        return out

    def kernel_helper_calls(self, ty: str) -> list[str]:
        if not self.fn.in_hook:
            return []
        calls = []
        for helper in abi.HELPERS.values():
            if helper.name not in self.hook.helpers or helper.name in self.avoid \
                    or helper.returns != ty \
                    or helper.call != "function":
                continue
            if helper.params == ():
                calls.append(f"{helper.name}()")
            elif helper.params == ("ctx",):
                calls.append(f"{helper.name}({CONTEXT_PARAMETER})")
            elif helper.params == ("ctx_or_null",):
                calls.append(f"{helper.name}({self.c.choice((CONTEXT_PARAMETER, 'None'))})")
        return calls

    def index_expr(self) -> str:
        """A small index: a constant, or a value known when the hook runs."""
        if chance(self.c, 50):
            return str(self.c.integer(0, 9))
        return f"{self._leaf_dynamic('u32', indexed=False)} % {self.c.integer(1, 12)}"

    def expr(self, ty: str, depth: int) -> str:
        """An expression of exactly type ``ty``.  Every operator has at
        least one operand that is not a literal, so constant folding never
        leaves the type's range."""
        text, _ = self._expr(ty, depth)
        return text

    def dynamic(self, ty: str, depth: int) -> str:
        """An expression of type ``ty`` that is not a constant."""
        for _ in range(8):
            text, is_dynamic = self._expr(ty, depth)
            if is_dynamic:
                return text
        return self._leaf_dynamic(ty)

    def _leaf_dynamic(self, ty: str, indexed: bool = True) -> str:
        options = [v.name for v in self.visible() if v.type == ty]
        options += self.context_reads(ty, indexed) + self.kernel_helper_calls(ty)
        options += [f"{s}.{f}" for s, f in self.struct_fields(ty)]
        if options:
            return self.c.choice(options).replace("{index}", self.index_expr())
        source = self.c.choice([t for t in INT_TYPES if self.context_reads(t, False)] or ["u32"])
        reads = self.context_reads(source, indexed=False)
        if reads:
            return f"{ty}({self.c.choice(reads)})"
        # A helper function has no context: a global is dynamic too.
        name = self.fresh("g")
        self.globals.append(Var(name, ty, is_global=True))
        return name

    def struct_fields(self, ty: str) -> list[tuple[str, str]]:
        out = []
        for var in self.visible():
            for s in self.structs:
                if var.type == s.name:
                    out += [(var.name, f) for f, t in s.fields if t == ty]
        return out

    def _expr(self, ty: str, depth: int) -> tuple[str, bool]:
        kinds = ["literal", "leaf", "leaf"]
        if depth > 0:
            kinds += ["binary", "binary", "shift", "unary", "convert", "ternary", "minmax",
                      "element", "call"]
            if ty == "u16":
                kinds.append("byteorder16")
            if ty == "u32":
                kinds += ["byteorder32", "len"]
        kind = self.c.choice(kinds)
        if kind == "literal":
            named = [n for n, t in self.constants if t in (None, ty)]
            if named and chance(self.c, 30):
                return self.c.choice(named), False
            return self.literal(ty), False
        if kind == "leaf":
            return self._leaf_dynamic(ty), True
        if kind == "binary":
            op = self.c.choice(ARITHMETIC)
            left, right = self.dynamic(ty, depth - 1), self.expr(ty, depth - 1)
            if chance(self.c, 50):
                left, right = right, left
            return f"({left} {op} {right})", True
        if kind == "shift":
            op = self.c.choice(("<<", ">>"))
            return f"({self.dynamic(ty, depth - 1)} {op} {self.shift_count(depth - 1)})", True
        if kind == "unary":
            return f"({self.c.choice(('-', '~', '+'))}{self.dynamic(ty, depth - 1)})", True
        if kind == "convert":
            if chance(self.c, 20):
                return f"{ty}({self.boolean(depth - 1)})", True
            return f"{ty}({self.dynamic(self.c.choice(INT_TYPES), depth - 1)})", True
        if kind == "ternary":
            return (f"({self.dynamic(ty, depth - 1)} if {self.boolean(depth - 1)} "
                    f"else {self.expr(ty, depth - 1)})"), True
        if kind == "minmax":
            return (f"{self.c.choice(('min', 'max'))}({self.dynamic(ty, depth - 1)}, "
                    f"{self.expr(ty, depth - 1)})"), True
        if kind == "byteorder16":
            name = self.c.choice(("htons", "ntohs"))
            self.imports.add(name)
            return f"{name}({self.dynamic('u16', depth - 1)})", True
        if kind == "byteorder32":
            name = self.c.choice(("htonl", "ntohl"))
            self.imports.add(name)
            return f"{name}({self.dynamic('u32', depth - 1)})", True
        if kind == "len":
            sized = [v for v in self.visible() if v.type in ("list", "bytearray")]
            if sized:
                return f"len({self.c.choice(sized).name})", False
        if kind == "element":
            lists = [v for v in self.visible() if v.type == "list" and v.elem == ty]
            if ty == "u8":
                lists += [v for v in self.visible() if v.type == "bytearray"]
            if lists:
                var = self.c.choice(lists)
                return f"{var.name}[{self.list_index(var)}]", True
        if kind == "call":
            callable_ = [h for h in self.helpers if h[2] == ty]
            if callable_:
                return self.call(self.c.choice(callable_), depth - 1), True
        return self._leaf_dynamic(ty), True

    def shift_count(self, depth: int) -> str:
        """A shift count: any integer value, or a literal that is not negative
        (a literal count meets no type, so it is an i64)."""
        if chance(self.c, 40):
            return str(self.c.integer(0, 70))
        return self.dynamic(self.c.choice(INT_TYPES), depth)

    def list_index(self, var: Var) -> str:
        """A constant index in range, or a value known only when the hook
        runs (built on a leaf, so constant folding cannot make it a
        constant out of range)."""
        if chance(self.c, 50):
            return str(self.c.integer(0, var.length - 1))
        ty = self.c.choice(("u8", "u32", "u64"))
        leaf = self._leaf_dynamic(ty)
        return leaf if chance(self.c, 50) else f"{leaf} + {self.expr(ty, 1)}"

    def call(self, helper: tuple[str, list[tuple[str, str]], str], depth: int) -> str:
        name, params, _ = helper
        args = ", ".join(self.expr(t, depth) for _, t in params)
        return f"{name}({args})"

    def comparison(self, ty: str, left: str, right: str) -> str:
        """An operator for ``left OP right`` that the range of ``ty`` alone
        does not decide (an unsigned ``x >= 0`` is refused)."""
        op = self.c.choice(COMPARISONS)
        low, high = RANGES[ty]
        for text, flipped in ((right, False), (left, True)):
            try:
                value = int(text.strip("()"), 0)
            except ValueError:
                continue
            edge = {"<": value <= low, ">=": value <= low, "<=": value >= high,
                    ">": value >= high}
            if edge.get(FLIP[op] if flipped else op, low == high):
                return "!="
        return op

    def boolean(self, depth: int) -> str:
        kinds = ["compare", "compare", "constant"]
        bools = [v.name for v in self.visible() if v.type == "bool"]
        if bools:
            kinds.append("variable")
        if depth > 0:
            kinds += ["not", "and", "or", "convert", "integer", "chain"]
        if any(v.type == "bytearray" for v in self.visible()):
            kinds.append("startswith")
        kind = self.c.choice(kinds)
        if kind == "chain":
            ty = self.c.choice(INT_TYPES)
            middle, middle_dynamic = self._expr(ty, 0)
            # Two constants compared are a test the program decides; one
            # of them len() of a fixed buffer is refused.
            last = self.expr(ty, 0) if middle_dynamic else self.dynamic(ty, 0)
            operands = [self.dynamic(ty, 0), middle, last]
            return (f"({operands[0]} {self.comparison(ty, operands[0], middle)} {middle} "
                    f"{self.comparison(ty, middle, last)} {last})")
        if kind == "startswith":
            var = self.c.choice([v for v in self.visible() if v.type == "bytearray"])
            prefix = "".join(f"\\x{self.c.integer(0, 255):02x}"
                             for _ in range(self.c.integer(0, var.length)))
            return f'{var.name}.startswith(b"{prefix}")'
        if kind == "compare":
            ty = self.c.choice(INT_TYPES)
            left, right = self.dynamic(ty, max(depth - 1, 0)), self.expr(ty, max(depth - 1, 0))
            return f"({left} {self.comparison(ty, left, right)} {right})"
        if kind == "constant":
            return self.c.choice(("True", "False"))
        if kind == "variable":
            return self.c.choice(bools)
        if kind == "not":
            return f"(not {self.boolean(depth - 1)})"
        if kind == "convert":
            return f"bool({self.dynamic(self.c.choice(INT_TYPES), depth - 1)})"
        if kind == "integer":
            # An integer condition (non-zero is true), as `and` / `or` operands.
            return f"({self.dynamic(self.c.choice(INT_TYPES), depth - 1)} and True)"
        op = "and" if kind == "and" else "or"
        return f"({self.boolean(depth - 1)} {op} {self.boolean(depth - 1)})"

    # --------------------------------------------------------- statements

    def block(self, indent: int, depth: int, count: int) -> list[str]:
        lines: list[str] = []
        for _ in range(count):
            lines += self.statement(indent, depth)
        return lines or [" " * indent + "pass"]

    def statement(self, indent: int, depth: int) -> list[str]:
        pad = " " * indent
        kinds = ["declare", "declare", "assign", "augmented", "pass"]
        if depth > 0:
            kinds.append("if")
            # Loops nest two deep at most: the verifier walks every iteration.
            if self.fn.loop_depth < 2 and self.fn.loops_left > 0:
                kinds += ["for", "while"]
        if self.fn.loop_depth and not self.fn.in_while:
            kinds.append("jump")
        if self.fn.in_hook:
            kinds += ["context_write", "kernel_helper", "bytes"]
            if self.hook.packet:
                kinds += ["packet", "packet"]
        if any(h[2] == "None" for h in self.helpers):
            kinds.append("call_statement")
        counters = [g for g in self.globals if g.type in ATOMIC_TYPES]
        if counters:
            kinds.append("atomic")
        if self.maps and self.fn.in_hook:
            kinds += ["map"] * 3
        kind = self.c.choice(kinds)
        if kind == "declare":
            return [pad + self.declaration()]
        if kind == "assign":
            target = self.target()
            if target is not None:
                text, ty = target
                return [f"{pad}{text} = {self.expr(ty, 2)}"]
            return [pad + self.declaration()]
        if kind == "augmented":
            target = self.target()
            if target is not None:
                text, ty = target
                if chance(self.c, 20):
                    return [f"{pad}{text} {self.c.choice(('<<=', '>>='))} {self.shift_count(1)}"]
                return [f"{pad}{text} {self.c.choice(AUGMENTED)} {self.expr(ty, 2)}"]
            return [pad + "pass"]
        if kind == "if":
            lines = [f"{pad}if {self.boolean(2)}:"] + self.block(indent + 4, depth - 1,
                                                                 self.c.integer(1, 3))
            for _ in range(self.c.integer(0, 2)):
                lines += [f"{pad}elif {self.boolean(2)}:"] + self.block(
                    indent + 4, depth - 1, self.c.integer(1, 2))
            if chance(self.c, 50):
                lines += [f"{pad}else:"] + self.block(indent + 4, depth - 1,
                                                       self.c.integer(1, 2))
            return lines
        if kind == "for":
            return self.for_loop(indent, depth)
        if kind == "while":
            return self.while_loop(indent, depth)
        if kind == "jump":
            return [f"{pad}if {self.boolean(1)}:", f"{pad}    {self.c.choice(('break', 'continue'))}"]
        if kind == "context_write":
            return [pad + line for line in self.context_write()]
        if kind == "packet":
            return packet_statement(self, pad)
        if kind == "kernel_helper":
            return [pad + line for line in self.kernel_helper_statement()]
        if kind == "bytes":
            name = self.fresh("buf")
            length = self.c.integer(1, 24)
            self.fn.locals.append(Var(name, "bytearray", "u8", length))
            if chance(self.c, 50):
                return [f"{pad}{name} = bytearray({length})"]
            content = "".join(f"\\x{self.c.integer(0, 255):02x}" for _ in range(length))
            return [f'{pad}{name} = bytearray(b"{content}")']
        if kind == "call_statement":
            helper = self.c.choice([h for h in self.helpers if h[2] == "None"])
            return [pad + self.call(helper, 1)]
        if kind == "map":
            return [pad + line for line in self.map_statement()]
        if kind == "atomic":
            # atomic_add as a statement, or for the value it gives (the old one)
            counter = self.c.choice(counters)
            self.imports.add("atomic_add")
            call = f"atomic_add({counter.name}, {self.expr(counter.type, 1)})"
            if chance(self.c, 50):
                return [pad + call]
            name = self.fresh("old")
            line = f"{pad}{name}: {counter.type} = {call}"
            self.fn.locals.append(Var(name, counter.type))
            return [line]
        return [pad + "pass"]

    def declaration(self) -> str:
        roll = self.c.integer(1, 10)
        if roll <= 6:
            ty = self.c.choice(INT_TYPES)
            name = self.fresh("v")
            text = f"{name}: {ty} = {self.expr(ty, 3)}"
            self.fn.locals.append(Var(name, ty))
            return text
        if roll <= 7:
            name = self.fresh("flag")
            text = f"{name}: bool = {self.boolean(2)}"
            self.fn.locals.append(Var(name, "bool"))
            return text
        if roll <= 9:
            elem = self.c.choice(INT_TYPES)
            length = self.c.integer(1, 6)
            name = self.fresh("xs")
            self.imports.add(elem)
            var = Var(name, "list", elem, length)
            if chance(self.c, 50):
                text = f"{name}: list[{elem}] = [0] * {length}"
            else:
                items = ", ".join(self.literal(elem) for _ in range(length))
                text = f"{name}: list[{elem}] = [{items}]"
            self.fn.locals.append(var)
            return text
        if self.structs:
            struct = self.c.choice(self.structs)
            name = self.fresh("s")
            self.fn.locals.append(Var(name, struct.name))
            return f"{name} = {struct.name}()"
        return "pass"

    def target(self) -> Optional[tuple[str, str]]:
        """Something assignable and its int type."""
        options: list[tuple[str, str]] = []
        for var in self.visible():
            if var.type in INT_TYPES:
                options.append((var.name, var.type))
            elif var.type == "list":
                options.append((f"{var.name}[{self.list_index(var)}]", var.elem))
            elif var.type == "bytearray":
                options.append((f"{var.name}[{self.list_index(var)}]", "u8"))
        for base, name in self.struct_targets():
            options.append((f"{base}.{name[0]}", name[1]))
        return self.c.choice(options) if options else None

    def struct_targets(self) -> list[tuple[str, tuple[str, str]]]:
        out = []
        for var in self.visible():
            for s in self.structs:
                if var.type == s.name:
                    out += [(var.name, f) for f in s.fields]
        return out

    def for_loop(self, indent: int, depth: int) -> list[str]:
        pad = " " * indent
        name = self.fresh("idx")
        form = self.c.integer(1, 3)
        most = self.loop_bound()
        self.fn.loops_left -= 1
        if form == 1:
            header, ty = f"range({self.c.integer(0, most)})", "i64"
        elif form == 2:
            start = self.c.integer(-3, 3)
            header, ty = f"range({start}, {start + self.c.integer(0, most)}, " \
                         f"{self.c.choice((1, 2, -1))})", "i64"
        else:
            header, ty = f"range({self.dynamic('u32', 1)} % {self.c.integer(1, most)})", "u32"
        self.fn.locals.append(Var(name, ty))
        self.fn.loop_depth += 1
        was_while, self.fn.in_while = self.fn.in_while, False
        body = self.block(indent + 4, depth - 1, self.c.integer(1, 3))
        self.fn.loop_depth -= 1
        self.fn.in_while = was_while
        return [f"{pad}for {name} in {header}:"] + body

    def loop_bound(self) -> int:
        return 4 if self.fn.loop_depth == 0 else 3

    def while_loop(self, indent: int, depth: int) -> list[str]:
        """A counted while loop: the counter steps first, so no path skips it."""
        pad = " " * indent
        counter = self.fresh("count")
        self.fn.loops_left -= 1
        lines = [f"{pad}{counter}: u32 = 0",
                 f"{pad}while {counter} < {self.c.integer(1, max(1, self.loop_bound()))}:",
                 f"{pad}    {counter} += 1"]
        self.imports.add("u32")
        self.fn.loop_depth += 1
        was_while, self.fn.in_while = self.fn.in_while, True
        lines += self.block(indent + 4, depth - 1, self.c.integer(1, 2))
        self.fn.loop_depth -= 1
        self.fn.in_while = was_while
        # Declared after the body so the body cannot assign it.
        self.fn.locals.append(Var(counter, "u32"))
        return lines

    def context_write(self) -> list[str]:
        writable = [f for f in self.hook.context.fields if f.name in self.hook.writable]
        if not writable:
            return ["pass"]
        f = self.c.choice(writable)
        target = f"{CONTEXT_PARAMETER}.{f.name}"
        if f.count > 1:
            target += f"[{self.c.integer(0, f.count - 1)}]"
        low, high = self.hook.bounds(f.name)
        if low is not None or high is not None:
            low = RANGES[f.kind][0] if low is None else low
            high = RANGES[f.kind][1] if high is None else high
            return [f"{target} = {self.c.integer(low, high)}"]
        if chance(self.c, 30):
            return [f"{target} {self.c.choice(AUGMENTED)} {self.expr(f.kind, 2)}"]
        return [f"{target} = {self.expr(f.kind, 2)}"]

    def socket_argument(self) -> str:
        """What the helpers taking a socket are given in this hook: ``ctx.sk``,
        the context itself where it is a socket's (sock_ops), or nothing."""
        if self.hook.context.is_socket:
            return CONTEXT_PARAMETER
        return f"{CONTEXT_PARAMETER}.sk" if "sk" in self.hook.readable else ""

    def kernel_helper_statement(self) -> list[str]:
        sock = self.socket_argument()
        allowed = [h for h in abi.HELPERS.values() if h.name in self.hook.helpers
                   and h.name not in self.avoid
                   and h.call == "function" and h.returns in RANGES
                   and all(p in ("ctx", "ctx_or_null", "buffer", "buffer_start") or p in RANGES
                           or (p == "sock" and sock) for p in h.params)]
        window = "optval" in self.hook.writable or "optval" in self.hook.readable
        options = ["helper"] * bool(allowed) + ["optval"] * window
        if not options:
            return ["pass"]
        if self.c.choice(options) == "optval":
            ty = self.c.choice(("u8", "u16", "u32", "u64"))
            value = self.expr(ty, 1)
            if ty == "u8":
                return [f"{CONTEXT_PARAMETER}.optval[{self.index_expr()}] = {value}"]
            return [f"{CONTEXT_PARAMETER}.optval.set_{ty}({self.index_expr()}, {value})"]
        helper = self.c.choice(allowed)
        self.imports.add(helper.name)
        lines, args = [], []
        for param in helper.params:
            if param == "ctx":
                args.append(CONTEXT_PARAMETER)
            elif param == "ctx_or_null":
                args.append(self.c.choice((CONTEXT_PARAMETER, "None")))
            elif param == "sock":
                args.append(sock)
            elif param in ("buffer", "buffer_start"):
                name = self.fresh("buf")
                length = self.c.integer(1, 64)
                lines.append(f"{name} = bytearray({length})")
                self.fn.locals.append(Var(name, "bytearray", "u8", length))
                args.append(name)
            elif args and helper.params[len(args) - 1] == "buffer_start":
                # A length: a constant 0 is refused at compile time.
                args.append(f"max({self.expr(param, 1)}, 1)")
            else:
                args.append(self.expr(param, 1))
        call = f"{helper.name}({', '.join(args)})"
        if helper.returns == "None" or chance(self.c, 30):
            return lines + [call]
        name = self.fresh("r")
        self.fn.locals.append(Var(name, helper.returns))
        return lines + [f"{name}: {helper.returns} = {call}"]

    # ------------------------------------------------------------ program

    def helper_function(self) -> list[str]:
        name = self.fresh("helper")
        params = [(self.fresh("p"), self.c.choice(INT_TYPES))
                  for _ in range(self.c.integer(0, 3))]
        returns = self.c.choice(INT_TYPES + ("bool", "None"))
        self.fn = _Function(in_hook=False, locals=[Var(p, t) for p, t in params])
        body = self.block(4, 1, self.c.integer(1, 3))
        if returns == "bool":
            body.append(f"    return {self.boolean(2)}")
        elif returns != "None":
            body.append(f"    return {self.expr(returns, 2)}")
        globals_line = self.global_declaration()
        signature = ", ".join(f"{p}: {t}" for p, t in params)
        self.helpers.append((name, params, returns))
        return [f"def {name}({signature}) -> {returns}:"] + globals_line + body

    def global_declaration(self) -> list[str]:
        scalars = [g.name for g in self.globals if g.type in INT_TYPES or g.type == "bool"]
        return [f"    global {', '.join(scalars)}"] if scalars else []

    def hook_function(self) -> list[str]:
        self.fn = _Function(in_hook=True)
        body = self.block(4, 3, self.c.integer(1, 6))
        body.append("    " + self.return_statement())
        name = self.fresh("hook")
        returns = "bool" if self.hook.returns.kind == "verdict" and chance(self.c, 20) else "int"
        return ([self.hook.example_decorator,
                 f"def {name}({CONTEXT_PARAMETER}: {self.hook.context.python_name}) -> {returns}:"]
                + self.global_declaration() + body)

    def return_statement(self) -> str:
        if self.hook.returns.kind == "bytes":
            self.imports.update(("DROP", "KEEP_ALL"))
            return f"return {self.c.choice(('DROP', 'KEEP_ALL', self.expr('u32', 2)))}"
        if self.hook.returns.kind == "action":
            # XDP_PASS, TC_ACT_OK, ...: a constant one of the hook's, a choice
            # of two, or any integer the program computes.
            first, second = (self.c.choice(self.hook.returns.values)[0] for _ in range(2))
            self.imports.update((first, second))
            return "return " + self.c.choice((
                first, f"{first} if {self.boolean(2)} else {second}", self.dynamic("i32", 2)))
        if self.hook.returns.kind == "value":     # ignored by the kernel
            return f"return {self.c.choice(('0', self.expr('u32', 2)))}"
        names = tuple(name for name, _ in self.hook.returns.values)
        self.imports.update(names)
        if not {"ALLOW", "REJECT"} <= set(names):
            return "return " + self.c.choice(names)     # e.g. recvmsg: ALLOW only
        return "return " + self.c.choice(names + (
            self.boolean(2), f"REJECT if {self.boolean(2)} else ALLOW"))

    def map_statement(self) -> list[str]:
        """A map method: an update with any flags, a lookup whose value
        changes, or a delete, with keys from a few so that they meet."""
        name, kind, value_type = self.c.choice(self.maps)
        key = f"u32({self.expr('u32', 1)}) % {self.c.integer(2, 6)}"
        action = self.c.choice(("update", "update", "lookup", "delete"))
        if action == "lookup":
            ref = self.fresh("ref")
            return [f"{ref} = {name}.lookup({key})", f"if {ref} is not None:",
                    f"    {ref}.value = {ref}.value + {self.expr(value_type, 1)}"]
        result = self.fresh("r")
        if action == "delete" and kind != "ArrayMap":
            call = f"{name}.delete({key})"
        else:
            flags = self.c.choice(("BPF_ANY", "BPF_NOEXIST", "BPF_EXIST"))
            self.imports.add(flags)
            call = f"{name}.update({key}, {self.expr(value_type, 1)}, {flags})"
        self.fn.locals.append(Var(result, "i64"))   # after its value: not used in it
        return [f"{result}: i64 = {call}"]

    def module_globals(self) -> list[str]:
        lines = []
        for _ in range(self.c.integer(0, 2) if self.with_maps else 0):
            kind = self.c.choice(("HashMap", "ArrayMap"))
            name = self.fresh("m")
            self.imports.add(kind)
            size = self.c.integer(1, 4)
            if kind == "HashMap":
                lines.append(f"{name}: HashMap[u32, u64] = HashMap(max_entries={size})")
                self.maps.append((name, kind, "u64"))
            else:
                lines.append(f"{name}: ArrayMap[u32] = ArrayMap(max_entries={size})")
                self.maps.append((name, kind, "u32"))
        for _ in range(self.c.integer(0, 2)):
            name = self.fresh("LIMIT")
            if chance(self.c, 50):
                lines.append(f"{name}: Final = {self.c.integer(0, 100)}")
                self.constants.append((name, None))
            else:
                ty = self.c.choice(INT_TYPES)
                lines.append(f"{name}: Final[{ty}] = {self.literal(ty)}")
                self.constants.append((name, ty))
        for _ in range(self.c.integer(0, 2)):
            struct = Struct(self.fresh("Rec"), [(self.fresh("f"), self.c.choice(INT_TYPES))
                                                for _ in range(self.c.integer(1, 4))])
            self.structs.append(struct)
            self.imports.add("struct")
            lines += ["@struct", f"class {struct.name}:"]
            lines += [f"    {f}: {t}" for f, t in struct.fields] + [""]
        for _ in range(self.c.integer(0, 4)):
            roll = self.c.integer(1, 4)
            name = self.fresh("g")
            if roll <= 2:
                ty = self.c.choice(INT_TYPES)
                lines.append(f"{name}: {ty} = {self.literal(ty)}")
                self.globals.append(Var(name, ty, is_global=True))
            elif roll == 3:
                elem, length = self.c.choice(INT_TYPES), self.c.integer(1, 8)
                self.imports.add(elem)
                lines.append(f"{name}: list[{elem}] = [0] * {length}")
                self.globals.append(Var(name, "list", elem, length, is_global=True))
            elif self.structs:
                struct = self.c.choice(self.structs)
                lines.append(f"{name}: {struct.name} = {struct.name}()")
                self.globals.append(Var(name, struct.name, is_global=True))
        return lines

    def program(self) -> str:
        module = self.module_globals()
        functions: list[str] = []
        for _ in range(self.c.integer(0, 2)):
            functions += self.helper_function() + ["", ""]
        functions += self.hook_function()
        for _ in range(self.c.integer(0, 1)):
            self.hook = example_hook(self.c.choice(self.hooks))
            self.imports.update((self.hook.decorator, self.hook.context.python_name))
            functions += ["", ""] + self.hook_function()
        # Globals a helper conjured up (to have a dynamic value) come first.
        declared = {line.split(":")[0] for line in module}
        for var in self.globals:
            if var.name not in declared and var.type in INT_TYPES:
                module.append(f"{var.name}: {var.type} = 0")
        for var in self.globals + [v for v in self.fn.locals]:
            if var.type in INT_TYPES:
                self.imports.add(var.type)
        used = "\n".join(module + functions)
        self.imports.update(t for t in INT_TYPES if re.search(rf"\b{t}\b", used))
        self.imports.update(h for h in abi.HELPERS if re.search(rf"\b{h}\(", used))
        header = [f"from pybpfc import {', '.join(sorted(self.imports))}", "", ""]
        if self.constants:
            header.insert(0, "from typing import Final")
        return "\n".join(header + module + ["", ""] + functions) + "\n"


def valid_program(chooser: Chooser, avoid: frozenset[str] = frozenset(),
                  maps: bool = False, hooks: Sequence[abi.Hook] = abi.HOOKS) -> str:
    """A valid program of the ``hooks`` (all by default); it calls none of
    the kernel helpers in ``avoid``, and with ``maps`` it declares maps and
    calls their methods."""
    return valid_program_of(chooser.choice(hooks), chooser, avoid, maps, hooks)


def valid_program_of(hook: abi.Hook, chooser: Chooser, avoid: frozenset[str] = frozenset(),
                     maps: bool = False, hooks: Sequence[abi.Hook] = abi.HOOKS) -> str:
    """A valid program whose first hook function is ``hook``'s (a further
    one is of the ``hooks``)."""
    return _Generator(chooser, hook, avoid, maps, hooks).program()


# ------------------------------------------------------------- faults

# One-line statements the language refuses (docs/language.md, section 9).
REFUSED_STATEMENTS = [
    "f = lambda x: x", "xs = [i for i in range(3)]", "d = {}", "yield 1", "assert True",
    "raise ValueError", "x = 1.5", 's = "abc"', "x = None", "t = (1, 2)", "a, b = 1, 2",
    "a = b = 1", "y = (x := 1)", "x = 1 ** 2", "n = abs(-1)", "print(1)", "del x",
    "nonlocal x", "import os", "with ctx: pass", "x = [1, 2][0]", "n = 5 // 0",
    "n = 1 << -1", "x: u8 = 256", "ctx = 1", "ALLOW = 2", "x = ...", "s = f'{1}'",
]


def tokens(text: str) -> list[str]:
    """The text cut at token boundaries (whitespace kept as tokens)."""
    return [t for t in re.split(r"(\s+|\w+|[^\w\s])", text) if t]


NAMES = ["ctx", "u8", "u32", "i64", "bool", "ALLOW", "REJECT", "range", "len", "x", "global",
         "None", "True", "optval", "optlen", "mark", "struct", "Final", "lambda", "def",
         "min", "bytearray", "int", "self", "return", "while", "for", "in", "if", "else"]
NUMBERS = ["0", "1", "-1", "255", "256", "4096", "0xFFFFFFFF", "1 << 63", "65536", "7",
           "0b102", "1_", "00", "1e3", "0x", "9" * 30, "-(1 << 64)"]
PUNCTUATION = ["(", ")", "[", "]", ":", ",", ".", "=", "==", "+", "-", "*", "//", "%", "<<",
               "@", "\\", ";", "\n", "\t", "    ", "'", '"', "#", "\x00", "é", "\r"]


def mutate(chooser: Chooser, text: str, steps: int) -> str:
    parts = tokens(text) or [""]
    for _ in range(steps):
        i = chooser.integer(0, len(parts) - 1)
        action = chooser.choice(["delete", "duplicate", "swap", "number", "name",
                                 "punctuation"])
        if action == "delete":
            del parts[i]
        elif action == "duplicate":
            parts.insert(i, parts[i])
        elif action == "swap":
            j = chooser.integer(0, len(parts) - 1)
            parts[i], parts[j] = parts[j], parts[i]
        elif action == "number":
            parts[i] = chooser.choice(NUMBERS)
        elif action == "name":
            parts[i] = chooser.choice(NAMES)
        else:
            parts.insert(i, chooser.choice(PUNCTUATION))
        if not parts:
            parts = [""]
    return "".join(parts)


def mutated_example(chooser: Chooser) -> str:
    return mutate(chooser, chooser.choice(EXAMPLES), chooser.integer(1, 4))


def function_body_lines(lines: list[str]) -> list[int]:
    """Indexes of the lines inside function bodies (not struct bodies)."""
    body, inside = [], False
    for i, line in enumerate(lines):
        if line.startswith("def "):
            inside = True
        elif line and not line.startswith(" "):
            inside = False
        elif inside and line.startswith("    "):
            body.append(i)
    return body


def nearly_valid_program(chooser: Chooser) -> str:
    text = valid_program(chooser)
    if chance(chooser, 40):
        lines = text.split("\n")
        body = function_body_lines(lines)
        if body:
            at = chooser.choice(body)
            indent = lines[at][:len(lines[at]) - len(lines[at].lstrip())]
            lines.insert(at, indent + chooser.choice(REFUSED_STATEMENTS))
            return "\n".join(lines)
    return mutate(chooser, text, 1)


GENERATORS = {"valid": valid_program, "nearly_valid": nearly_valid_program,
              "mutated_example": mutated_example}
