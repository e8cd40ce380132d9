"""Statements, functions and modules of generated programs
(fuzz/programs.py): :class:`ProgramWriter` writes a whole valid program over
the expressions of :class:`.program_expressions.ExpressionWriter`."""
from __future__ import annotations

import re
from typing import Optional, Sequence

from pybpfc import abi
from pybpfc.compiler.check.hook_targets import example_hook

from .choose import Chooser, chance
from .packets import packet_statement
from .program_expressions import ExpressionWriter
from .program_vocabulary import (ATOMIC_TYPES, AUGMENTED, CONTEXT_PARAMETER, INT_TYPES, RANGES,
                                 Function, Struct, Var)


class ProgramWriter(ExpressionWriter):
    """One valid program: its statements, functions and module."""

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
                           or (p == "sock" and sock) or bool(self.map_args.get(p))
                           for p in h.params)]
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
            elif param in self.map_args:
                args.append(self.c.choice(self.map_args[param]))
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
        self.fn = Function(in_hook=False, locals=[Var(p, t) for p, t in params])
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
        self.fn = Function(in_hook=True)
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
            if self.device_maps and "redirect_map" in self.hook.helpers and chance(self.c, 30):
                # The slot's device, else the action in the flags' low bits.
                return (f"return {self.c.choice(self.device_maps)}.redirect("
                        f"{self.expr('u32', 1)}, {first})")
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
        if self.with_maps and chance(self.c, 30):
            kind, name = self.c.choice(("DevMap", "DevMapHash")), self.fresh("dev")
            self.imports.add(kind)
            lines.append(f"{name}: {kind} = {kind}(max_entries={self.c.integer(1, 8)})")
            self.device_maps.append(name)
        for param, kind in abi.MAP_PARAMS.items():
            if self.with_maps and chance(self.c, 20):
                name = self.fresh(param)
                self.imports.add(kind)
                lines.append(f"{name}: {kind} = {kind}(max_entries={self.c.integer(1, 8)})")
                self.map_args[param].append(name)
        for _ in range(self.c.integer(0, 2)):
            name = self.fresh("LIMIT")
            if chance(self.c, 50):
                value = str(self.c.integer(0, 100))
                lines.append(f"{name}: Final = {value}")
                self.constants.append((name, None))
            else:
                ty = self.c.choice(INT_TYPES)
                value = self.literal(ty)
                lines.append(f"{name}: Final[{ty}] = {value}")
                self.constants.append((name, ty))
            self.constant_values[name] = int(value.strip("()"), 0)
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
    return ProgramWriter(chooser, hook, avoid, maps, hooks).program()
