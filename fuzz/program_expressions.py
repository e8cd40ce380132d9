"""Expressions of generated programs (fuzz/programs.py): literals, the
context fields and kernel helpers a hook may read, integer and boolean
expressions of any depth over what is in scope.  :class:`ExpressionWriter`
holds what a program being written has declared; the statement writer
builds on it."""
from __future__ import annotations

import re
from typing import Optional, Sequence

from pybpfc import abi
from pybpfc.compiler.check.hook_targets import example_hook

from .choose import Chooser, chance
from .program_vocabulary import (ARITHMETIC, COMPARISONS, CONTEXT_PARAMETER, FLIP, INT_TYPES,
                                 RANGES, TASK_READS, Function, Struct, Var)

# A test made of True, False, not, and, or alone: known when compiled.
CONSTANT_TEST = re.compile(r"[()\s]*(?:(?:not|and|or|True|False)[()\s]*)+")
# An integer type's conversion of something: u16(False).
CONVERTED = re.compile(r"[ui](?:8|16|32|64)\((.*)\)")


class ExpressionWriter:
    def __init__(self, chooser: Chooser, hook: abi.Hook, avoid: frozenset[str] = frozenset(),
                 maps: bool = False, hooks: Sequence[abi.Hook] = abi.HOOKS):
        self.c = chooser
        self.hook = example_hook(hook)     # a tracepoint's context is the kernel's
        self.avoid = avoid      # kernel helpers the program must not call
        self.with_maps = maps
        self.maps: list[tuple[str, str, str]] = []    # name, kind, value type
        self.device_maps: list[str] = []    # DevMap/DevMapHash names, for XDP's redirect
        # Maps helpers take as arguments (ProgArray for tail_call(), ...), by
        # the parameter kind that takes them.
        self.map_args: dict[str, list[str]] = {kind: [] for kind in abi.MAP_PARAMS}
        self.hooks = hooks      # the hooks a further hook function is chosen from
        self.imports: set[str] = {hook.decorator, hook.context.python_name}
        self.counter = 0
        self.globals: list[Var] = []
        self.structs: list[Struct] = []
        self.helpers: list[tuple[str, list[tuple[str, str]], str]] = []   # name, params, returns
        self.fn = Function(in_hook=True)
        self.constants: list[tuple[str, Optional[str]]] = []   # name, type (None: untyped)
        self.constant_values: dict[str, int] = {}

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

    def kernel_struct_reads(self, ty: str) -> list[str]:
        """``get_current_task().tgid`` and the like: members of type ``ty``
        of the current task, through each helper this hook may call."""
        if not self.fn.in_hook:
            return []
        return [f"{helper}().{member}" for helper in ("get_current_task", "get_current_task_btf")
                if helper in self.hook.helpers and helper not in self.avoid
                for member, member_ty in TASK_READS if member_ty == ty]

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
        options += self.kernel_struct_reads(ty)
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
                test = self.boolean(depth - 1)
                # Of a constant test, a constant (whose comparisons may be decided).
                return f"{ty}({test})", not CONSTANT_TEST.fullmatch(test)
            return f"{ty}({self.dynamic(self.c.choice(INT_TYPES), depth - 1)})", True
        if kind == "ternary":
            body, test = self.dynamic(ty, depth - 1), self.boolean(depth - 1)
            orelse, orelse_dynamic = self._expr(ty, depth - 1)
            if CONSTANT_TEST.fullmatch(test):
                # The checker folds it to one arm, maybe a constant whose
                # comparisons the type's range decides: write that arm.
                return (body, True) if eval(test) else (orelse, orelse_dynamic)
            return f"({body} if {test} else {orelse})", True
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
            value = self.constant_value(text)
            if value is None:
                continue
            edge = {"<": value <= low, ">=": value <= low, "<=": value >= high,
                    ">": value >= high}
            if edge.get(FLIP[op] if flipped else op, low == high):
                return "!="
        return op

    def constant_value(self, text: str) -> Optional[int]:
        """The value of an operand the checker knows: a literal, a named
        constant, or a conversion of a constant test (``u16(False)``)."""
        if text in self.constant_values:
            return self.constant_values[text]
        converted = CONVERTED.fullmatch(text)
        inner = converted.group(1) if converted else text
        if CONSTANT_TEST.fullmatch(inner):
            return int(bool(eval(inner)))
        try:
            return int(inner.strip("()"), 0)
        except ValueError:
            return None

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
