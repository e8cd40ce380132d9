"""The sock_addr hooks in the compiler: the return values the kernel
wants of each, the socket behind ``ctx.sk``, and a decorator that is no
hook answered with the hooks the table has; and what the kernel loads
compiles: None where a helper takes NULL, a warning (not a refusal) for a
write that will surely fail with EFAULT."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import pybpfc_cli

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


def test_none_is_accepted_only_where_the_kernel_takes_null() -> None:
    head = "from pybpfc import ALLOW, SockAddrContext, cgroup_connect4, {h}\n\n\n" \
           "@cgroup_connect4\ndef prog(ctx: SockAddrContext) -> int:\n"
    compile_source(Source("prog.py", head.format(h="get_netns_cookie")
                          + "    x = get_netns_cookie(None)\n    return ALLOW\n"))
    err = error_of(head.format(h="get_socket_cookie")
                   + "    x = get_socket_cookie(None)\n    return ALLOW\n")
    assert err.message == "None is not a value in pybpfc"
    err = error_of(head.format(h="get_netns_cookie")
                   + "    x = get_netns_cookie(1)\n    return ALLOW\n")
    assert err.message == "get_netns_cookie() takes the hook's context here, or None"


def test_a_write_the_kernel_loads_but_fails_with_efault_is_a_warning() -> None:
    text = ("from pybpfc import ALLOW, SockoptContext, cgroup_setsockopt\n\n\n"
            "@cgroup_setsockopt\ndef prog(ctx: SockoptContext) -> int:\n"
            "    ctx.optlen = -1\n    ctx.optlen = 5000\n    return ALLOW\n")
    compiled = compile_source(Source("prog.py", text))
    assert [(w.pos.line, w.pos.col, w.render().split("\n")[0]) for w in compiled.warnings
            if w.pos is not None] == [
        (7, 18, "prog.py:7:18: warning: ctx.optlen = 5000 makes the call fail with EFAULT "
                "in a @cgroup_setsockopt hook")]
    assert [w.render() for w in check_source(Source("prog.py", text)).warnings] == [
        w.render() for w in compiled.warnings]


def test_pybpfc_build_prints_a_warning_and_writes_the_object(tmp_path: Path) -> None:
    program = tmp_path / "prog.py"
    program.write_text("from pybpfc import ALLOW, SockoptContext, cgroup_getsockopt\n\n\n"
                       "@cgroup_getsockopt\ndef prog(ctx: SockoptContext) -> int:\n"
                       "    ctx.optlen = -3\n    return ALLOW\n")
    result = pybpfc_cli("build", str(program), "-o", str(tmp_path / "prog.o"))
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[0] == (
        f"{program}:6:18: warning: ctx.optlen = -3 makes the call fail with EFAULT in a "
        "@cgroup_getsockopt hook")
    assert (tmp_path / "prog.o").stat().st_size > 0


def test_the_fuzzers_programs_cover_every_sock_addr_hook_and_compile() -> None:
    """fuzz/programs.py picks its hook from the table: its valid programs
    reach each sock_addr hook, use its fields and helpers (None for
    get_netns_cookie among them), return what the hook may, and compile."""
    from fuzz.choose import RandomChooser
    from fuzz.programs import valid_program
    wanted = {h.decorator for h in abi.HOOKS if h.context is abi.BPF_SOCK_ADDR}
    seen: set[str] = set()
    for seed in range(600):
        text = valid_program(RandomChooser(seed))
        used = wanted & {line[1:] for line in text.splitlines() if line.startswith("@")}
        if used - seen:         # the first program of each hook
            compile_source(Source("fuzz.py", text))
            seen |= used
    assert seen == wanted
