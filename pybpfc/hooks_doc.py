"""docs/hooks.md, written from the ABI tables (``python -m pybpfc.hooks_doc``).

The page is generated so that it can never disagree with what the compiler
and runtime enforce; a test checks that the committed file is current.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from . import abi as hooks

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


_PACKET_KINDS = {"packet": "start of the packet", "packet_end": "end of the packet",
                 "packet_meta": "start of the packet's metadata"}


def _rights(hook: hooks.Hook, f: hooks.Field) -> str:
    if f.kind in _PACKET_KINDS:
        if f.kind == "packet" and f.name in hook.readable and hook.packet:
            return ("headers read and written through `ctx.header(T, offset)`"
                    if hook.packet == "write" else "headers read through `ctx.header(T, offset)`")
        return "used by `ctx.header`" if f.name in hook.readable else "—"
    if f.kind == "window_end":
        return "used through `len(ctx.optval)`"
    if f.kind == "window":
        return "its bytes: read, write" if f.name in hook.readable else "—"
    read = f.name in hook.readable
    write = f.name in hook.writable
    if read and write:
        lo, hi = hook.bounds(f.name)
        if lo is None and hi is None:
            return "read, write"
        below = f"below {lo}" if lo is not None else ""
        above = f"above {hi}" if hi is not None else ""
        return f"read, write (EFAULT {' or '.join(filter(None, (below, above)))})"
    if read:
        return "read"
    return "—"


def _field_type(f: hooks.Field) -> str:
    if f.kind in _PACKET_KINDS:
        return _PACKET_KINDS[f.kind]
    if f.kind == "window":
        return "byte window (`ctx.optval[i]`, `.u32(off)`, ...)"
    if f.kind == "sock":
        return "SockContext, read-only (`ctx.sk.family`)"
    if f.kind == "window_end":
        return "end of optval"
    if f.count > 1:
        return f"{f.kind}[{f.count}], constant index"
    return f.kind


def _helper_text(name: str) -> str:
    """A helper's kernel name, and how a program calls it when that is not
    a function of the same name."""
    helper = hooks.HELPERS.get(name)
    if helper is None or helper.call == "function":
        return f"`{name}`"
    if helper.call == "print":
        return f"`{name}` (`print()`)"
    calls = sorted({f"{kind.python_name}.{method}()" for kind in hooks.MAP_KINDS.values()
                    for method, helper_name in kind.methods if helper_name == name})
    return f"`{name}` ({', '.join(f'`{c}`' for c in calls)})"


def _sections_text(hook: hooks.Hook) -> str:
    """The section pybpfc writes, how libbpf also matches it, and the other
    names libbpf gives the hook."""
    first, *others = hook.sections
    text = f"`{first.name}`"
    if first.match == hooks.OPTIONAL_SUFFIX:
        text += f" (or `{first.name}/NAME`)"
    if others:
        text += "; libbpf also reads " + ", ".join(f"`{s.name}`" for s in others)
    return text


def example_of(hook: hooks.Hook) -> Optional[tuple[str, str]]:
    """(file name, text) of the shortest example function with this hook's
    decorator, from the decorator to the end of the function."""
    found = []
    for path in sorted(EXAMPLES.glob("*.py")):
        lines = path.read_text().splitlines()
        for i, line in enumerate(lines):
            if line.strip() != f"@{hook.decorator}":
                continue
            end = i + 2
            while end < len(lines) and (not lines[end] or lines[end].startswith((" ", "\t"))):
                end += 1
            found.append((path.name, "\n".join(lines[i:end]).rstrip()))
    return min(found, key=lambda f: f[1].count("\n")) if found else None


def hook_section(hook: hooks.Hook) -> str:
    ctx = hook.context
    lines = [
        f"## `@{hook.decorator}`",
        "",
        f"Runs {hook.summary.removeprefix('runs ')}.",
        "",
        "| | |",
        "|---|---|",
        f"| ELF section | {_sections_text(hook)} |",
        f"| program type | `{hook.prog_type}` |",
        f"| attach type | {f'`{hook.attach_type}`' if hook.attach_type else 'none'} |",
        f"| attached to | {hooks.ATTACH_TARGETS[hook.attach_target]} |",
        f"| context | `{ctx.python_name}` (`struct {ctx.c_name}`) |",
        f"| returns | {hook.returns.doc} |",
        "",
        "| field | type | offset | access |",
        "|---|---|---|---|",
    ]
    for f in ctx.fields:
        lines.append(f"| `{f.name}` | {_field_type(f)} | {f.offset} | {_rights(hook, f)} |")
    lines += ["", "Kernel helpers the verifier allows here: "
              + ", ".join(_helper_text(h) for h in sorted(hook.helpers)) + ".", ""]
    if hook.packet_loads:
        lines += ["Packet bytes are read with `ctx.load_u8/u16/u32(offset)`.", ""]
    example = example_of(hook)
    if example is not None:
        name, body = example
        lines += [f"Example, from [examples/{name}](../examples/{name}):", "",
                  "```python", body, "```", ""]
    return "\n".join(lines)


def _method_text(method: hooks.Method) -> str:
    """``update(key, value, flags=0)``: a method as a program calls it."""
    params = [p.name if p.required else f"{p.name}={p.default}" for p in method.params]
    return f"{method.name}({', '.join(params)})"


# How the helper table's parameter kinds and return types read in the docs.
_PARAM_KINDS = {"ctx": "context", "ctx_or_null": "context or None",
                "sock": "ctx.sk (in @sock_ops: ctx)", "buffer": "bytearray",
                "buffer_start": "bytearray", "buffer_tail": "bytearray",
                "raw": "integer of either byte order", **hooks.MAP_PARAMS}
_RETURNS = {"parsed_i64": "ParsedInt", "parsed_u64": "ParsedUint",
            "kernel:task_struct": "task_struct (probe-read)",
            "btf:task_struct": "task_struct (BTF-typed)"}


def helpers_section() -> str:
    lines = ["## Helpers", "",
             "Kernel helpers a program calls as functions of the same name, imported from "
             "`pybpfc` (positional arguments only). Each hook's section lists those it may "
             "call.", "",
             "| call | returns | bpf_func_id | what it does |",
             "|---|---|---|---|"]
    for helper in sorted(hooks.HELPERS.values(), key=lambda h: h.name):
        if helper.call != "function":
            continue
        params = ", ".join(f"{p.name}: {_PARAM_KINDS.get(p.kind, p.kind)}"
                           for p in helper.signature)
        returns = _RETURNS.get(helper.returns, helper.returns)
        doc = helper.doc.replace("|", "\\|")     # a table cell
        lines.append(f"| `{helper.name}({params})` | {returns} | {helper.func_id} | {doc} |")
    lines.append("")
    return "\n".join(lines)


def maps_section() -> str:
    lines = ["## Maps", "",
             "Declared at module level, e.g. `counts: HashMap[u32, u64] = "
             "HashMap(max_entries=64)`; see [language.md](language.md#maps).", "",
             "| declaration | kernel map type | key | methods | what it is |",
             "|---|---|---|---|---|"]
    keys = {"declared": "K", "index": "u32 index", "socket": "a socket",
            "cgroup": "the cgroup", "none": "none"}
    for kind in hooks.MAP_KINDS.values():
        params = (["K"] if kind.key == "declared" else []) + (["V"] if kind.has_value else [])
        spelled = kind.python_name + (f"[{', '.join(params)}]" if params else "")
        options = ", ".join(f"{o}=..." for o in kind.options)
        methods = ", ".join(f"`{_method_text(m)}`" for m in kind.signatures)
        lines.append(f"| `{spelled}({options})` | `{kind.map_type}` | {keys[kind.key]} | "
                     f"{methods} | {kind.doc} |")
    lines.append("")
    return "\n".join(lines)


def render() -> str:
    head = [
        "# Hooks",
        "",
        "<!-- Generated by `python -m pybpfc.hooks_doc > docs/hooks.md` from "
        "the tables in pybpfc/abi/; do not edit. -->",
        "",
        "Each hook is a Python function with one decorator and one argument, the",
        "context. The compiler checks every read and write of a context field",
        "against the table below (the verifier's rules for that attach type) and",
        "reports a violation at its line. Field descriptions:",
        "",
    ]
    seen = []
    for ctx in hooks.CONTEXTS + hooks.TRACING_CONTEXTS:
        if not ctx.fields:
            continue      # a tracepoint's: the kernel's event describes them
        head.append(f"- `{ctx.python_name}` (`struct {ctx.c_name}`): "
                    + "; ".join(f"`{f.name}`: {f.doc}" for f in ctx.fields
                                if f.kind != "window_end") + ".")
        seen.append(ctx)
    head.append("")
    return "\n".join(head + [hook_section(h) for h in hooks.HOOKS]
                     + [helpers_section(), maps_section()])


if __name__ == "__main__":
    print(render(), end="")
