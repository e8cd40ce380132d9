"""Typed tracepoint contexts: ``from pybpfc.tracepoints import
syscalls__sys_enter_openat`` annotates a @tracepoint hook's context exactly
as ``TracepointContext`` does (same fields from the kernel's format file,
same instructions), and a class that names another tracepoint than the
decorator is an error at the annotation.  The module imports any such name,
so programs stay importable Python.

Reading a tracepoint's format needs tracefs: mounted for the read where it
is missing (as root).
"""
from __future__ import annotations

import runpy
from pathlib import Path

import pytest

import pybpfc
from pybpfc import tracepoints
from pybpfc.compiler.driver import check_source, compile_source
from pybpfc.compiler.errors import CompileError, Source
from pybpfc.runtime.elf import read_object
from tests.support import REPO_ROOT, require_root

GENERIC = '''\
from pybpfc import HashMap, TracepointContext, tracepoint, u32, u64

seen: HashMap[u32, u64] = HashMap(max_entries=16)


@tracepoint("syscalls", "sys_enter_openat")
def enter(ctx: TracepointContext) -> int:
    seen.update(u32(ctx.flags), ctx.filename)
    return 0
'''

TYPED = GENERIC.replace(
    "from pybpfc import HashMap, TracepointContext,",
    "from pybpfc.tracepoints import syscalls__sys_enter_openat\n"
    "from pybpfc import HashMap,").replace("ctx: TracepointContext",
                                          "ctx: syscalls__sys_enter_openat")


def error_of(text: str) -> CompileError:
    with pytest.raises(CompileError) as info:
        check_source(Source("prog.py", text))
    return info.value


def where(err: CompileError) -> tuple[int, int]:
    assert err.pos is not None
    return err.pos.line, err.pos.col


def test_any_tracepoint_class_imports_and_names_its_tracepoint() -> None:
    cls = tracepoints.syscalls__sys_enter_openat
    assert (cls.category, cls.event) == ("syscalls", "sys_enter_openat")
    assert issubclass(cls, pybpfc.TracepointContext)
    assert tracepoints.syscalls__sys_enter_openat is cls
    assert tracepoints.tracepoint_of("sched__sched_process_exec") == ("sched",
                                                                       "sched_process_exec")
    assert tracepoints.class_name("sched", "sched_switch") == "sched__sched_switch"
    for bad in ("openat", "__x", "x__", "_x__y", "a-b__c"):
        assert tracepoints.tracepoint_of(bad) is None
    with pytest.raises(AttributeError, match="CATEGORY__NAME"):
        getattr(tracepoints, "openat")


def test_a_program_with_a_typed_context_runs_as_python(tmp_path: Path) -> None:
    path = tmp_path / "typed.py"
    path.write_text(TYPED)
    module = runpy.run_path(str(path))
    annotation = module["enter"].__annotations__["ctx"]
    assert annotation in ("syscalls__sys_enter_openat", tracepoints.syscalls__sys_enter_openat)


def test_a_typed_context_compiles_to_the_same_instructions() -> None:
    require_root("reading a tracepoint's format")

    def programs(text: str) -> dict[str, bytes]:
        spec = read_object(compile_source(Source("prog.py", text)).elf)
        return {name: p.instructions for name, p in spec.programs.items()}
    typed = programs(TYPED)
    assert typed == programs(GENERIC)
    assert len(typed["enter"]) > 8 * 8


def test_an_aliased_typed_context_is_accepted() -> None:
    require_root("reading a tracepoint's format")
    check_source(Source("prog.py", TYPED.replace(
        "import syscalls__sys_enter_openat", "import syscalls__sys_enter_openat as Openat")
        .replace("ctx: syscalls__sys_enter_openat", "ctx: Openat")))


def test_a_typed_contexts_fields_are_the_kernels() -> None:
    require_root("reading a tracepoint's format")
    err = error_of(TYPED.replace("ctx.flags", "ctx.flagz"))
    assert "has no field 'flagz'" in err.message
    assert where(err) == (9, 25)


def test_a_class_of_another_tracepoint_is_refused_at_the_annotation() -> None:
    require_root("reading a tracepoint's format")
    text = TYPED.replace('"sys_enter_openat")', '"sys_enter_close")')
    err = error_of(text)
    assert err.message == ("syscalls__sys_enter_openat is the context of tracepoint "
                           "syscalls/sys_enter_openat, but this hook is attached to "
                           "syscalls/sys_enter_close")
    assert where(err) == (8, 16)
    assert err.note is not None and "syscalls__sys_enter_close" in err.note


def test_a_typed_context_on_another_kind_of_hook_is_refused() -> None:
    text = ("from pybpfc import raw_tracepoint\n"
            "from pybpfc.tracepoints import syscalls__sys_enter_openat\n\n\n"
            '@raw_tracepoint("sys_enter")\n'
            "def enter(ctx: syscalls__sys_enter_openat) -> int:\n    return 0\n")
    err = error_of(text)
    assert err.message == ('syscalls__sys_enter_openat is the context of a '
                           '@tracepoint("syscalls", "sys_enter_openat") hook, not of a '
                           '@raw_tracepoint hook')
    assert where(err) == (6, 16)


def test_a_name_that_is_no_tracepoint_is_refused_at_the_import() -> None:
    err = error_of("from pybpfc.tracepoints import openat\n")
    assert "pybpfc.tracepoints has no 'openat'" in err.message
    assert where(err) == (1, 32)
    err = error_of("from pybpfc.tracepoints import *\n")
    assert "import names one by one" in err.message


def test_the_docs_program_with_a_typed_context_compiles() -> None:
    require_root("reading a tracepoint's format")
    section = (REPO_ROOT / "docs" / "tracing.md").read_text() \
        .split("## Editors and type checkers\n", 1)[1]
    program = section.split("```python\n", 1)[1].split("```\n", 1)[0]
    assert "ctx: syscalls__sys_enter_openat" in program
    compiled = compile_source(Source("tracing.md", program))
    assert [p.name for p in compiled.plan.programs] == ["enter_openat"]
