"""The sock_addr hooks in the compiler: the return values the kernel
wants of each, the socket behind ``ctx.sk``, and a decorator that is no
hook answered with the hooks the table has."""
from __future__ import annotations

import pytest

from pybpfc import abi
from pybpfc.compiler.driver import check_source, compile_source
from pybpfc.compiler.errors import CompileError, Source


def hook_program(decorator: str, body: str, imports: str = "ALLOW") -> str:
    return (f"from pybpfc import {imports}, SockAddrContext, {decorator}\n\n\n"
            f"@{decorator}\ndef prog(ctx: SockAddrContext) -> int:\n{body}")


def error_of(text: str) -> CompileError:
    with pytest.raises(CompileError) as info:
        check_source(Source("prog.py", text))
    return info.value


MUST_ALLOW = [h for h in abi.HOOKS if h.returns.values == (("ALLOW", 1),)]


def test_the_hooks_that_cannot_refuse_are_those_the_kernel_says() -> None:
    assert sorted(h.section for h in MUST_ALLOW) == sorted(
        f"cgroup/{call}{family}" for call in ("recvmsg", "getpeername", "getsockname")
        for family in ("4", "6", "_unix"))


@pytest.mark.parametrize("hook", MUST_ALLOW, ids=lambda h: h.decorator)
@pytest.mark.parametrize("value", ["REJECT", "ctx.user_port == 0", "REJECT if ctx.type else ALLOW"])
def test_a_hook_that_cannot_refuse_must_return_allow(hook: abi.Hook, value: str) -> None:
    err = error_of(hook_program(hook.decorator, f"    return {value}\n", "ALLOW, REJECT"))
    assert err.message == f"a @{hook.decorator} hook must return ALLOW (1)"
    assert err.pos is not None and (err.pos.line, err.pos.col) == (6, len("    return ") + 1)


def test_a_hook_that_cannot_refuse_returns_the_one_value_even_through_a_choice() -> None:
    text = hook_program("cgroup_recvmsg4", "    return ALLOW if ctx.type == 2 else ALLOW\n")
    compile_source(Source("prog.py", text))


def test_bind_may_also_waive_the_capability_check_and_nothing_else() -> None:
    body = ("    if ctx.user_port == 0:\n        return ALLOW_PRIVILEGED_PORT\n"
            "    return REJECT if ctx.type == 1 else ALLOW\n")
    for decorator in ("cgroup_bind4", "cgroup_bind6"):
        compile_source(Source("prog.py", hook_program(
            decorator, body, "ALLOW, ALLOW_PRIVILEGED_PORT, REJECT")))
    err = error_of(hook_program("cgroup_connect4", "    return ALLOW_PRIVILEGED_PORT\n",
                                "ALLOW_PRIVILEGED_PORT"))
    assert "returns ALLOW (1) or REJECT (0), or a bool" in err.message
    err = error_of(hook_program("cgroup_bind4", "    return 2\n"))
    assert "ALLOW_PRIVILEGED_PORT (3)" in err.message


def test_socket_storage_takes_ctx_sk_in_a_sock_addr_hook() -> None:
    head = "from pybpfc import ALLOW, SockAddrContext, SockStorage, cgroup_connect4, u64\n" \
           "seen: SockStorage[u64] = SockStorage()\n\n\n" \
           "@cgroup_connect4\ndef prog(ctx: SockAddrContext) -> int:\n"
    compile_source(Source("prog.py", head + "    r = seen.get(ctx.sk, create=True)\n"
                                            "    return ALLOW\n"))
    err = error_of(head + "    r = seen.get(ctx, create=True)\n    return ALLOW\n")
    assert "ctx.sk in sockopt and sock_addr hooks" in err.message


def test_bind_helper_is_for_connect_hooks_only() -> None:
    assert {h.decorator for h in abi.HOOKS if "bind" in h.helpers} == {
        "cgroup_connect4", "cgroup_connect6"}


def test_an_import_named_like_a_hook_lists_the_hooks_there_are() -> None:
    err = error_of("from pybpfc import cgroup_connect5\n")
    assert err.message == "pybpfc has no 'cgroup_connect5'"
    assert err.note is not None and err.note.startswith("did you mean 'cgroup_connect")
    listed = err.note.split("the hooks pybpfc has: ")[1].split(", ")
    assert listed == sorted(abi.HOOKS_BY_DECORATOR)


def test_an_unrelated_unknown_import_is_not_answered_with_hooks() -> None:
    assert error_of("from pybpfc import frobnicate\n").note is None


def test_a_decorator_that_is_no_hook_lists_the_hooks_there_are() -> None:
    err = error_of("from pybpfc import ALLOW, SockAddrContext\n\n\n@staticmethod\n"
                   "def prog(ctx: SockAddrContext) -> int:\n    return ALLOW\n")
    assert err.message.startswith("unknown decorator")
    assert err.note is not None
    assert err.note.split("the hooks pybpfc has: ")[1].split(", ") == sorted(
        abi.HOOKS_BY_DECORATOR)
