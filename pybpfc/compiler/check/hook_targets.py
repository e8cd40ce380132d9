"""Hook decorators that name what they attach to: ``@tracepoint("syscalls",
"sys_enter_openat")``, ``@uprobe("/usr/lib/libc.so.6", "malloc")``.

The decorator's arguments are string literals, one per parameter the hook
row's ``target`` names; they make the program's ELF section (libbpf's
spelling, so bpftool and libbpf load the object too).  A tracepoint's
context is the kernel's: its fields are read from the running kernel's
format file here, and a tracepoint this kernel lacks is an error at the
decorator.
"""
from __future__ import annotations

from ... import abi
from .. import ast as A
from ..tracepoint_btf import tracepoint_context
from ..tracepoint_format import TracepointUnknown, btf_tracepoint_context, readable
from .state import error


def targeted_hook(hook: abi.Hook, dec: A.Expr) -> abi.Hook:
    """The hook a decorator makes, with its target and context."""
    params = hook.target_params
    if not isinstance(dec, A.Call):
        if params:
            raise error(f"@{hook.decorator} needs its target: write "
                        f"@{hook.decorator}({', '.join(params)})", dec,
                        note=_example(hook))
        return hook
    if not params:
        raise error(f"@{hook.decorator} takes no arguments: write it without parentheses",
                    dec)
    if dec.keywords:
        raise error(f"@{hook.decorator} takes its arguments by position", dec.keywords[0])
    if len(dec.args) != len(params):
        raise error(f"@{hook.decorator} takes {len(params)} argument"
                    f"{'s' if len(params) > 1 else ''} ({', '.join(params)}), "
                    f"not {len(dec.args)}", dec, note=_example(hook))
    values = {}
    for param, arg in zip(params, dec.args):
        if not isinstance(arg, A.StrLit) or not arg.value:
            raise error(f"the {param} of @{hook.decorator} must be a non-empty string literal",
                        arg)
        if any(c.isspace() or c == "\0" for c in arg.value) or \
                (param != "binary" and ("/" in arg.value or ":" in arg.value)):
            raise error(f"'{arg.value}' cannot be a {param}", arg)
        values[param] = arg.value
    if ":" in values.get("binary", ""):
        raise error("a binary's path cannot hold ':' (the section separates it from the "
                    "function with one)", dec.args[0])
    try:
        return _with_context(hook, values)
    except TracepointUnknown as err:
        raise error(str(err), dec, note="a tracepoint's fields come from the kernel the "
                    "program is compiled on") from None


def _with_context(hook: abi.Hook, values: dict[str, str]) -> abi.Hook:
    """The hook for this target, with the target's context where the
    kernel decides it."""
    if hook.attach_target == abi.TARGET_TRACEPOINT:
        context = tracepoint_context(values["category"], values["name"])
        return hook.for_target(values, context, readable(context))
    if hook.attach_target == abi.TARGET_KERNEL_BTF:
        context = btf_tracepoint_context(values["name"])
        return hook.for_target(values, context, hook.readable)
    return hook.for_target(values, hook.context, hook.readable)


def _example(hook: abi.Hook) -> str:
    return "for example " + hook.example_decorator


def example_hook(hook: abi.Hook) -> abi.Hook:
    """The hook as its example target makes it (for docs, tests and
    fuzzers): a tracepoint's context is then the running kernel's."""
    if not hook.target:
        return hook
    return _with_context(hook, dict(zip(hook.target_params, hook.example_target)))
