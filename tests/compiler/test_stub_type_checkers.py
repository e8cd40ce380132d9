"""The stubs ``pybpfc stubs`` writes reach mypy and pyright with no
configuration: written by default beside pybpfc's modules in the installed
package, they are found by both checkers for a program outside the
repository, which then know a typed tracepoint context's fields and a
kernel struct's, and flag a misspelled one.

So as not to write into this checkout's package (where a user's own stubs
may be), the test installs a copy of the package: a virtual environment
whose site-packages point at the copy (and at this environment's packages,
for pybpfc's dependencies), runs ``pybpfc stubs`` with its Python, and runs
each checker with that Python as the project's interpreter.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.compiler.test_type_checkers import CHECKERS, Checker, outside_repository, \
    user_environment
from tests.support import REPO_ROOT, require_root

PROGRAM = '''\
from pybpfc import (RawTracepointArgs, TracepointContext, get_current_task,
                    get_current_task_btf, i32, raw_tracepoint, tracepoint, u64)
from pybpfc.tracepoints import syscalls__sys_enter_openat, syscalls__sys_exit_openat
from pybpfc.vmlinux import task_struct


@tracepoint("syscalls", "sys_enter_openat")
def enter(ctx: syscalls__sys_enter_openat) -> int:
    name: u64 = ctx.filename
    return int(name + ctx.flags)


@tracepoint("syscalls", "sys_exit_openat")
def leave(ctx: syscalls__sys_exit_openat) -> int:
    return int(ctx.ret)


@tracepoint("syscalls", "sys_exit_close")
def untyped(ctx: TracepointContext) -> int:
    return ctx.anything


def parent_of(task: task_struct) -> i32:
    return task.real_parent.tgid


def exe_name(task: task_struct) -> u64:
    return task.mm.exe_file.f_path.dentry.d_name.name


def parent_at(address: u64) -> i32:
    return task_struct(address).real_parent.tgid


@raw_tracepoint("sys_enter")
def current(ctx: RawTracepointArgs) -> int:
    task = get_current_task()
    address: u64 = u64(task)
    return int(task.real_parent.tgid + get_current_task_btf().pid + address)
'''

MISSPELLED = '''\
from pybpfc import get_current_task, i32, tracepoint
from pybpfc.tracepoints import syscalls__sys_enter_openat
from pybpfc.vmlinux import task_struct


@tracepoint("syscalls", "sys_enter_openat")
def enter(ctx: syscalls__sys_enter_openat) -> int:
    return int(ctx.file_name)


def parent_of(task: task_struct) -> i32:
    return task.real_parent.tgidd


def current_parent() -> i32:
    return get_current_task().real_parnt.tgid
'''


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Python of an environment where a copy of pybpfc is installed,
    with the stubs ``pybpfc stubs`` wrote by default."""
    require_root("reading tracepoint formats")
    root = tmp_path_factory.mktemp("install")
    site = root / "site"
    shutil.copytree(REPO_ROOT / "pybpfc", site / "pybpfc",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyi"))
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root / "venv")],
                   check=True)
    python = root / "venv" / "bin" / "python"
    venv_site = Path(subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True, text=True, check=True).stdout.strip())
    (venv_site / "pybpfc_copy.pth").write_text(f"{site}\n{sysconfig.get_path('purelib')}\n")
    written = subprocess.run([str(python), "-m", "pybpfc", "stubs"], capture_output=True,
                             text=True, cwd=root, env=user_environment())
    assert written.returncode == 0, written.stderr
    for name in ("vmlinux.pyi", "tracepoints.pyi"):
        assert f"wrote {site / 'pybpfc' / name}" in written.stdout
    return python


@pytest.mark.parametrize("program, wrong_lines", [
    (PROGRAM, ()), (MISSPELLED, (8, 12, 16)),
    ((REPO_ROOT / "examples" / "exec_parents.py").read_text(), ())],
    ids=["right", "misspelled", "exec_parents"])
@pytest.mark.parametrize("checker", CHECKERS, ids=lambda c: c.name)
def test_checkers_know_the_kernels_fields(checker: Checker, program: str,
                                          wrong_lines: tuple[int, ...], installed: Path,
                                          tmp_path: Path) -> None:
    workdir = outside_repository(tmp_path)
    (workdir / "prog.py").write_text(program)
    errors, output = checker.errors(workdir, "prog.py", python=str(installed))
    assert errors == {("prog.py", line) for line in wrong_lines}, output
    if wrong_lines:
        assert "file_name" in output and "tgidd" in output and "real_parnt" in output


@pytest.mark.parametrize("checker", CHECKERS, ids=lambda c: c.name)
def test_the_stubs_themselves_check_clean(checker: Checker, installed: Path,
                                          tmp_path: Path) -> None:
    """Checked as sources (a library's stub errors are not reported), the
    stubs have none: no field hides a type its class's annotations use."""
    workdir = outside_repository(tmp_path)
    package = Path(subprocess.run([str(installed), "-c", "import pybpfc; print(pybpfc.__file__)"],
                                  capture_output=True, text=True, check=True,
                                  cwd=workdir).stdout.strip()).parent
    for name in ("vmlinux", "tracepoints"):
        shutil.copy(package / f"{name}.pyi", workdir / f"kernel_{name}.pyi")
    assert "    thread_pid: _T_pid\n" in (workdir / "kernel_vmlinux.pyi").read_text()
    errors, output = checker.errors(workdir, "kernel_vmlinux.pyi", "kernel_tracepoints.pyi",
                                    python=str(installed))
    assert errors == set(), output
