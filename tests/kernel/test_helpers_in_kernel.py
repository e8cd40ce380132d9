"""The hook table says which kernel helpers each hook may call; the
kernel's verifier must agree.  For every hook and every helper the table
allows it, a program calling that helper (as a function, a map method or
print()) is compiled and loaded into the kernel."""
from __future__ import annotations

import pytest

from tests.support import require_root
from pybpfc import abi
from pybpfc.compiler.driver import compile_source
from pybpfc.compiler.errors import Source
from pybpfc.runtime.collection import load

# How a program calls each helper called through a map: the map it
# declares and the statement.
METHOD_CALLS = {
    "map_lookup_elem": ("m: HashMap[u32, u64] = HashMap(max_entries=4)",
                        "r = m.lookup(1)\n    if r is not None:\n        r.value += 1"),
    "map_update_elem": ("m: HashMap[u32, u64] = HashMap(max_entries=4)", "m.update(1, 2)"),
    "map_delete_elem": ("m: HashMap[u32, u64] = HashMap(max_entries=4)", "m.delete(1)"),
    "sk_storage_get": ("m: SockStorage[u64] = SockStorage()",
                       "r = m.get({sock}, create=True)\n    if r is not None:\n"
                       "        r.value += 1"),
    "sk_storage_delete": ("m: SockStorage[u64] = SockStorage()", "m.delete({sock})"),
    "get_local_storage": ("m: CgroupStorage[u64] = CgroupStorage()", "m.get().value += 1"),
    "ringbuf_output": ("m: RingBuf = RingBuf(max_entries=4096)", "m.output(u64(1))"),
    "redirect_map": ("m: DevMap = DevMap(max_entries=4)", "x = m.redirect(1, 2)"),
}


def call_of(hook: abi.Hook, helper: abi.Helper) -> tuple[str, str]:
    """(module-level declaration, statement in the hook)."""
    sock = "ctx.sk" if hook.context.field("sk") is not None else "ctx"
    if helper.call == "method":
        declaration, statement = METHOD_CALLS[helper.name]
        return declaration, statement.format(sock=sock)
    if helper.call == "print":
        return "", 'print("helper check", 1)'
    args: list[str] = []
    for kind in helper.params:
        if args and args[-1] == "buf" and helper.params[len(args) - 1] == "buffer_start":
            args.append("ctx.file_pos")     # a length only known when the hook runs
            continue
        args.append({"ctx": "ctx", "ctx_or_null": "None", "sock": sock, "buffer": "buf",
                     "buffer_start": "buf", "buffer_tail": "buf"}.get(
                         kind, "m" if kind in abi.MAP_PARAMS else "0"))
    call = f"{helper.name}({', '.join(args)})"
    for kind in set(helper.params) & set(abi.MAP_PARAMS):   # a map the module declares
        map_kind = abi.MAP_PARAMS[kind]
        return f"m: {map_kind} = {map_kind}(max_entries=2)", f"x = {call}"
    if helper.returns.startswith("parsed"):
        return "", f"parsed = {call}"
    return "", f"x = {call}" if helper.returns != "None" else call


def program(hook: abi.Hook, helper: abi.Helper) -> str:
    declaration, statement = call_of(hook, helper)
    names = ["ALLOW", "ArrayMap", "CgroupStorage", "DevMap", "HashMap", "RingBuf", "SockStorage",
             "u32", "u64", hook.decorator, hook.context.python_name, *abi.MAP_PARAMS.values()]
    if helper.call == "function":
        names.append(helper.name)
    verdict = "ALLOW" if hook.returns.kind == "verdict" else "0"
    return (f"from pybpfc import {', '.join(sorted(set(names)))}\n{declaration}\n\n"
            f"{hook.example_decorator}\ndef check(ctx: {hook.context.python_name}) -> int:\n"
            f"    buf = bytearray(16)\n    {statement}\n    return {verdict}\n")


CASES = [(hook, abi.HELPERS[name]) for hook in abi.HOOKS for name in sorted(hook.helpers)
         if name in abi.HELPERS]


def test_every_allowed_helper_of_the_table_is_callable() -> None:
    """The table's helper sets name helpers pybpfc knows how to call."""
    unknown = {name for hook in abi.HOOKS for name in hook.helpers} - set(abi.HELPERS)
    assert not unknown, unknown


@pytest.mark.parametrize("hook,helper", CASES,
                         ids=[f"{h.decorator}-{x.name}" for h, x in CASES])
def test_kernel_accepts_each_allowed_helper(hook: abi.Hook, helper: abi.Helper) -> None:
    require_root("loading programs")
    text = program(hook, helper)
    elf = compile_source(Source(f"{helper.name}.py", text)).elf
    with load(elf) as coll:
        assert list(coll.programs) == ["check"]
