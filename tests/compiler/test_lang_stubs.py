"""pybpfc.lang, the module programs import, is held to the ABI tables: its
decorators, context classes, helper functions and map classes say what the
tables say, so that what mypy accepts in a program is what pybpfc compiles.
A map method's keywords are the table's parameter names: mypy and the
compiler accept the same calls and refuse the same misspellings."""
from __future__ import annotations

import inspect
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

import pybpfc
from pybpfc import abi, lang
from pybpfc.compiler.driver import check_source, compile_source
from pybpfc.compiler.errors import CompileError, Source
from pybpfc.runtime.cgroup import TemporaryCgroup
from tests.support import REPO_ROOT, Attached, run_in_cgroup

# ------------------------------------------------------------ the stubs


@pytest.mark.parametrize("hook", abi.HOOKS, ids=lambda h: h.decorator)
def test_each_hook_has_its_decorator(hook: abi.Hook) -> None:
    assert hook.decorator in pybpfc.__all__

    def program(ctx: object) -> int:
        return 0

    decorator = getattr(lang, hook.decorator)
    if hook.target:
        # Called with its target first, which the section then names.
        target = hook.target.format(**dict(zip(hook.target_params, hook.example_target)))
        marked = decorator(*hook.example_target)(program)
        assert marked.__pybpfc_hook__ == f"{hook.section}/{target}"
    else:
        assert decorator(program).__pybpfc_hook__ == hook.section


def field_annotation(f: abi.Field) -> str:
    """How lang.py annotates a context field of this kind."""
    special = {"sock": "SockContext", "window": "OptvalWindow", "window_end": "int",
               "packet": "int", "packet_end": "int", "packet_meta": "int"}
    if f.kind in special:
        return special[f.kind]
    return f"list[{f.kind}]" if f.count > 1 else f.kind


@pytest.mark.parametrize("ctx", abi.CONTEXTS, ids=lambda c: c.python_name)
def test_context_classes_have_the_tables_fields(ctx: abi.Context) -> None:
    assert ctx.python_name in pybpfc.__all__
    cls = getattr(lang, ctx.python_name)
    assert cls.__annotations__ == {f.name: field_annotation(f) for f in ctx.fields}


def helper_param_annotation(helper: abi.Helper, kind: str) -> str:
    if kind in ("ctx", "ctx_or_null"):
        # The context of the hooks that may call it, or any context.
        contexts = {h.context.python_name for h in abi.HOOKS if helper.name in h.helpers}
        return contexts.pop() if len(contexts) == 1 else "object"
    if kind == "sock":
        # ctx.sk, or the context itself where it is a socket's (sock_ops).
        return " | ".join(["SockContext"] + sorted(
            {h.context.python_name for h in abi.HOOKS
             if helper.name in h.helpers and h.context.is_socket}))
    if kind.startswith("buffer"):
        return "bytearray"
    if kind in abi.MAP_PARAMS:
        return abi.MAP_PARAMS[kind]
    return "int"


HELPER_RETURNS = {"parsed_i64": "ParsedInt", "parsed_u64": "ParsedUint", "None": "None",
                  # the kernel struct's class in pybpfc.vmlinux
                  "kernel:task_struct": "task_struct", "btf:task_struct": "task_struct"}
FUNCTION_HELPERS = [h for h in abi.HELPERS.values() if h.call == "function"]


@pytest.mark.parametrize("helper", FUNCTION_HELPERS, ids=lambda h: h.name)
def test_helper_functions_have_the_tables_signature(helper: abi.Helper) -> None:
    signature = inspect.signature(getattr(lang, helper.name))
    params = list(signature.parameters.values())
    assert [p.name for p in params] == [p.name for p in helper.signature]
    # The compiler takes no keyword arguments for a helper; neither does mypy.
    assert all(p.kind is p.POSITIONAL_ONLY for p in params)
    assert [p.annotation for p in params] == [helper_param_annotation(helper, p.kind)
                                              for p in helper.signature]
    assert signature.return_annotation == HELPER_RETURNS.get(helper.returns, "int")


METHOD_PARAM_ANNOTATIONS = {"K": "K", "V": "V", "u32": "int", "u64": "int", "bool": "bool",
                            "socket": "object", "record": "object", "i64": "int"}
METHOD_RETURNS = {"optional_ref": "Optional[Ref[V]]", "ref": "Ref[V]", "i64": "int", "i32": "int",
                  "None": "None"}


@pytest.mark.parametrize("kind", abi.MAP_KINDS.values(), ids=lambda k: k.python_name)
def test_map_classes_have_the_tables_methods(kind: abi.MapKind) -> None:
    assert kind.python_name in pybpfc.__all__
    cls = getattr(lang, kind.python_name)
    public = {name for name, _ in inspect.getmembers(cls, inspect.isfunction)
              if not name.startswith("_")}
    assert public == {m.name for m in kind.signatures}
    for method in kind.signatures:
        signature = inspect.signature(getattr(cls, method.name))
        self_param, *params = signature.parameters.values()
        assert self_param.name == "self"
        assert [p.name for p in params] == [p.name for p in method.params], method.name
        assert all(p.kind is p.POSITIONAL_OR_KEYWORD for p in params)
        assert [p.default for p in params] == [
            p.empty if q.required else q.default for p, q in zip(params, method.params)]
        assert [p.annotation for p in params] == [METHOD_PARAM_ANNOTATIONS[q.type]
                                                  for q in method.params]
        assert signature.return_annotation == METHOD_RETURNS[method.returns]
    options = list(inspect.signature(cls).parameters)
    assert options == list(kind.options)


# --------------------------------------------- mypy and pybpfc agree

HEADER = """\
from pybpfc import (ALLOW, XDP_PASS, ArrayMap, CgroupStorage, DevMap, DevMapHash, HashMap,
                    Histogram, LpmTrie, LruHashMap, PerCpuArrayMap, PerCpuHashMap, ProgArray,
                    RingBuf, SockoptContext, SockStorage, StackTraceMap, XdpContext,
                    cgroup_getsockopt, struct, u32, u64, xdp)


@struct
class Prefix:                    # the key of a map keyed by prefixes (LpmTrie)
    prefixlen: u32
    addr: u32

"""
# A value of each parameter type, in a getsockopt hook.
ARGUMENTS = {"K": "1", "V": "2", "u32": "1", "u64": "0", "bool": "True", "socket": "ctx.sk",
             "record": "u64(3)", "i64": "-1"}


def argument(kind: abi.MapKind, param: abi.MethodParam) -> str:
    """A value of the parameter's type; a prefix key is the hook's variable."""
    return "prefix" if kind.prefix_key and param.type == "K" else ARGUMENTS[param.type]


def declaration(kind: abi.MapKind) -> str:
    key = "Prefix" if kind.prefix_key else "u32"
    declares_value = kind.has_value and kind.fixed_value is None
    types = ([key] if kind.key == "declared" else []) + (["u64"] if declares_value else [])
    annotation = kind.python_name + (f"[{', '.join(types)}]" if types else "")
    options = "max_entries=4096" if "max_entries" in kind.options else ""
    return f"{kind.python_name.lower()}: {annotation} = {kind.python_name}({options})\n"


def call(kind: abi.MapKind, method: abi.Method, keywords: dict[str, str]) -> str:
    arguments = ", ".join(f"{name}={value}" for name, value in keywords.items())
    return f"{kind.python_name.lower()}.{method.name}({arguments})"


def in_xdp(kind: abi.MapKind) -> bool:
    """Whether the kind's methods are called in an XDP hook (their helpers
    are the packet programs' only) rather than in a getsockopt one."""
    sockopt = next(h for h in abi.HOOKS if h.decorator == "cgroup_getsockopt")
    return any(m.helper not in sockopt.helpers for m in kind.signatures)


def hook(body: list[str]) -> str:
    """Both hooks: each line is the getsockopt hook's, or the XDP hook's
    when it starts with "xdp:"."""
    def lines(prefix: str) -> str:
        return "".join(f"    {line.removeprefix(prefix)}\n" for line in body
                       if line.startswith("xdp:") == bool(prefix))
    return ("\n\n@cgroup_getsockopt\ndef calls(ctx: SockoptContext) -> int:\n"
            + "    prefix = Prefix()\n" + lines("") + "    return ALLOW\n"
            + "\n\n@xdp\ndef packet_calls(ctx: XdpContext) -> int:\n"
            + lines("xdp:") + "    return XDP_PASS\n")


def every_call_by_keyword() -> list[str]:
    """Each method of each map kind, every argument given by its name."""
    body = []
    for kind in abi.MAP_KINDS.values():
        for method in kind.signatures:
            text = call(kind, method, {p.name: argument(kind, p) for p in method.params})
            if in_xdp(kind):
                body.append(f"xdp:{text}")
            elif method.returns == "optional_ref":
                body += [f"found = {text}", "if found is None:", "    return ALLOW"]
            elif method.returns == "ref":
                body += [f"here = {text}", "here.value = 1"]
            else:
                body.append(text)
    return body


def misspelled_calls() -> list[str]:
    """For each method with parameters, its first one under another map's name
    (HashMap's key for ArrayMap's index, and so on)."""
    calls = []
    for kind in abi.MAP_KINDS.values():
        for method in kind.signatures:
            if method.params:
                first = method.params[0]
                wrong = "key" if first.name != "key" else "index"
                keywords = {wrong: argument(kind, first)}
                keywords.update({p.name: argument(kind, p) for p in method.params[1:]})
                calls.append(("xdp:" if in_xdp(kind) else "") + call(kind, method, keywords))
    return calls


def program(body: list[str]) -> str:
    return HEADER + "".join(declaration(k) for k in abi.MAP_KINDS.values()) + hook(body)


def mypy(tmp_path: Path, text: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "calls.py"
    path.write_text(text)
    return subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental",
                           "--cache-dir", str(tmp_path / "mypy"), str(path)],
                          capture_output=True, text=True, cwd=REPO_ROOT)


def test_mypy_and_pybpfc_accept_every_method_by_keyword(tmp_path: Path) -> None:
    text = program(every_call_by_keyword())
    assert compile_source(Source("calls.py", text)).elf
    checked = mypy(tmp_path, text)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_mypy_and_pybpfc_refuse_the_same_misspelled_keywords(tmp_path: Path) -> None:
    calls = misspelled_calls()
    assert len(calls) >= 10
    for text in calls:
        with pytest.raises(CompileError, match=r"has no parameter '(key|index)'"):
            check_source(Source("calls.py", program([text])))
    text = program(calls)
    checked = mypy(tmp_path, text)
    lines = text.splitlines()
    expected = {lines.index(f"    {c.removeprefix('xdp:')}") + 1 for c in calls}
    refused = {int(n) for n in re.findall(r"calls\.py:(\d+): error: Unexpected keyword",
                                          checked.stdout)}
    assert refused == expected, checked.stdout


# ----------------------------- ArrayMap.lookup(index=...), in the kernel

# The stub has always called an array's key `index`; the compiler once knew
# only `key`, so a program mypy accepted did not compile.
ARRAY_BY_INDEX = """\
from pybpfc import ALLOW, BPF_ANY, ArrayMap, SockContext, atomic_add, cgroup_sock_create, u64

counts: ArrayMap[u64] = ArrayMap(max_entries=4)


@cgroup_sock_create
def count(ctx: SockContext) -> int:
    seen = counts.lookup(index=1)
    if seen is not None:
        atomic_add(seen.value, 1)
    counts.update(index=2, value=7, flags=BPF_ANY)
    return ALLOW
"""


def test_array_methods_take_index_by_keyword() -> None:
    compiled = compile_source(Source("array_by_index.py", ARRAY_BY_INDEX))
    assert [p.section for p in compiled.plan.programs] == ["cgroup/sock_create"]


def make_sockets(count: int) -> int:
    for _ in range(count):
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM).close()
    return count


@pytest.mark.kernel
def test_array_methods_by_keyword_run_in_the_kernel(cgroup: TemporaryCgroup) -> None:
    elf = compile_source(Source("array_by_index.py", ARRAY_BY_INDEX)).elf
    with Attached(elf, cgroup) as attached:
        assert run_in_cgroup(cgroup.path, make_sockets, 3) == 3
        counts = attached.maps["counts"]
        assert [counts[i] for i in range(4)] == [0, 3, 7, 0]
