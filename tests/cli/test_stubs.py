"""``pybpfc stubs``: vmlinux.pyi and tracepoints.pyi from the running
kernel, valid Python stubs with the fields the kernel has; written only
where asked, replacing only regular files.

Reading tracepoint formats needs tracefs: mounted for the read where it is
missing (as root), and unmounted again.
"""
from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pybpfc.cli import main
from pybpfc.cli_stubs import default_directory
from pybpfc.runtime.tracepoint_events import tracefs_mount
from tests.support import require_root

STUBS = ["tracepoints.pyi", "vmlinux.pyi"]


def classes(path: Path) -> dict[str, dict[str, str]]:
    """Each class of a stub, with its annotated fields as written."""
    tree = ast.parse(path.read_text())
    out = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            out[node.name] = {item.target.id: ast.unparse(item.annotation)
                              for item in node.body if isinstance(item, ast.AnnAssign)
                              and isinstance(item.target, ast.Name)}
    return out


def test_stubs_hold_the_kernels_structs_and_tracepoints(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    require_root("reading tracepoint formats")
    before = tracefs_mount()
    assert main(["stubs", "-o", str(tmp_path)]) == 0
    assert tracefs_mount() == before
    assert sorted(os.listdir(tmp_path)) == STUBS
    out = capsys.readouterr().out
    assert f"wrote {tmp_path / 'vmlinux.pyi'}" in out and "tracepoints)" in out

    structs = classes(tmp_path / "vmlinux.pyi")
    task = structs["task_struct"]
    assert (task["real_parent"], task["tgid"], task["pid"], task["comm"], task["mm"]) == \
        ("task_struct", "i32", "i32", "bytearray", "mm_struct")
    # a field named as a type its class's annotations use names it through an alias
    assert structs["linux_binprm"]["file"] == "_T_file" and task["thread_pid"] == "_T_pid"
    assert "\n_T_file = file\n" in (tmp_path / "vmlinux.pyi").read_text()
    assert structs["file"]["f_path"] == "path" and structs["path"]["dentry"] == "_T_dentry"
    # struct qstr's name is in an anonymous struct of an anonymous union: flattened
    assert structs["qstr"]["name"] == "u64" and structs["qstr"]["len"] == "u32"
    assert task["pid_links"] == "list[hlist_node]"
    assert structs["mm_struct"]["saved_auxv"] == "list[u64]"
    assert all(ann.isidentifier() or ann.startswith(("list[", "_T_list["))
               for fields in structs.values() for ann in fields.values())

    events = classes(tmp_path / "tracepoints.pyi")
    assert events["syscalls__sys_enter_openat"] == {
        "__syscall_nr": "i32", "dfd": "u64", "filename": "u64", "flags": "u64", "mode": "u64"}
    assert events["syscalls__sys_exit_openat"] == {"__syscall_nr": "i32", "ret": "i64"}
    exec_fields = events["sched__sched_process_exec"]
    assert exec_fields["filename"] == "u64" and exec_fields["pid"] == "i32"
    assert events["sched__sched_switch"]["prev_comm"] == "list[u8]"
    assert not any(name.startswith("common_") for fields in events.values() for name in fields)
    assert len(events) > 500


def test_a_chosen_struct_and_tracepoints(tmp_path: Path) -> None:
    require_root("reading tracepoint formats")
    assert main(["stubs", "-o", str(tmp_path), "--struct", "bpf_prog", "--depth", "0",
                 "--tracepoint", "syscalls/sys_enter_openat",
                 "--tracepoint", "sched__sched_process_exec"]) == 0
    events = classes(tmp_path / "tracepoints.pyi")
    assert sorted(events) == ["sched__sched_process_exec", "syscalls__sys_enter_openat"]
    structs = classes(tmp_path / "vmlinux.pyi")
    assert structs["bpf_prog"]["len"] == "u32"
    # --depth 0: the roots in full, what they point to as classes without fields
    assert structs["bpf_prog"]["aux"] == "bpf_prog_aux" and structs["bpf_prog_aux"] == {}
    assert "class bpf_prog_aux:\n    \"\"\"bpf_prog_aux: its fields are not in these stubs " \
           "(pybpfc stubs --struct bpf_prog_aux adds them)\"\"\"\n" \
           "    def __init__(self, address: int, /) -> None: ...\n" \
           "    def __int__(self) -> int: ...\n" \
           "    def __getattr__(self, name: str) -> Any: ...\n" \
           in (tmp_path / "vmlinux.pyi").read_text()


def test_mistakes_are_errors_that_write_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    require_root("reading tracepoint formats")
    assert main(["stubs", "-o", str(tmp_path), "--struct", "no_such_struct_here"]) == 1
    assert "no struct or union 'no_such_struct_here'" in capsys.readouterr().err
    assert main(["stubs", "-o", str(tmp_path), "--tracepoint", "syscalls/sys_enter_nothing"]) == 1
    assert "no tracepoint syscalls/sys_enter_nothing" in capsys.readouterr().err
    assert main(["stubs", "-o", str(tmp_path), "--tracepoint", "openat"]) == 1
    assert "does not name a tracepoint" in capsys.readouterr().err
    assert main(["stubs", "-o", str(tmp_path / "missing")]) == 1
    assert "is not a directory" in capsys.readouterr().err
    assert os.listdir(tmp_path) == []


def test_only_a_regular_file_is_replaced(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "elsewhere.txt"
    target.write_text("keep me\n")
    (tmp_path / "vmlinux.pyi").symlink_to(target)
    os.mkfifo(tmp_path / "tracepoints.pyi")
    assert main(["stubs", "-o", str(tmp_path), "--only", "vmlinux"]) == 1
    assert "is a symbolic link, not a regular file; pybpfc stubs replaces only a regular " \
           "file" in capsys.readouterr().err
    assert main(["stubs", "-o", str(tmp_path), "--only", "tracepoints"]) == 1
    assert "is a FIFO" in capsys.readouterr().err
    assert target.read_text() == "keep me\n" and (tmp_path / "vmlinux.pyi").is_symlink()
    assert sorted(os.listdir(tmp_path)) == ["elsewhere.txt", *STUBS]

    (tmp_path / "vmlinux.pyi").unlink()
    (tmp_path / "vmlinux.pyi").write_text("old\n")
    os.chmod(tmp_path / "vmlinux.pyi", 0o640)
    assert main(["stubs", "-o", str(tmp_path), "--only", "vmlinux", "--depth", "0"]) == 0
    assert "class task_struct:" in (tmp_path / "vmlinux.pyi").read_text()
    assert (tmp_path / "vmlinux.pyi").stat().st_mode & 0o777 == 0o640


def test_the_default_directory_is_the_installed_package_beside_its_modules(
        tmp_path: Path) -> None:
    found = subprocess.run([sys.executable, "-c", "import pybpfc.tracepoints as t; "
                            "print(t.__file__)"], capture_output=True, text=True, cwd=tmp_path,
                           env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    assert Path(found.stdout.strip()).parent == default_directory()
    assert (default_directory() / "tracepoints.py").is_file()


def test_all_structs(tmp_path: Path) -> None:
    assert main(["stubs", "-o", str(tmp_path), "--only", "vmlinux", "--all-structs"]) == 0
    assert os.listdir(tmp_path) == ["vmlinux.pyi"]
    structs = classes(tmp_path / "vmlinux.pyi")
    assert len(structs) > 5000
    assert structs["ext4_inode_info"]["i_disksize"] == "i64"     # reached from no default struct


def methods(node: ast.ClassDef) -> dict[str, str]:
    """A class's methods but private ones, as ``(args) -> returns``."""
    return {item.name: f"({ast.unparse(item.args)}) -> {ast.unparse(item.returns)}"
            for item in node.body if isinstance(item, ast.FunctionDef)
            and item.returns is not None
            and (item.name.startswith("__") or not item.name.startswith("_"))}


def test_the_stubs_classes_are_built_as_the_runtimes(tmp_path: Path) -> None:
    """Every stub class takes what pybpfc/vmlinux.py's classes take
    (``task_struct(address)``) and converts as they do (``u64(task)``);
    one without fields also takes any attribute."""
    import pybpfc.vmlinux
    assert main(["stubs", "-o", str(tmp_path), "--only", "vmlinux", "--depth", "0"]) == 0
    runtime, = (methods(node) for node in ast.parse(Path(pybpfc.vmlinux.__file__).read_text()).body
                if isinstance(node, ast.ClassDef) and node.name == "KernelStruct")
    assert runtime.keys() == {"__init__", "__int__"}
    written = ast.parse((tmp_path / "vmlinux.pyi").read_text())
    stub = {node.name: methods(node) for node in written.body if isinstance(node, ast.ClassDef)}
    assert stub["task_struct"] == runtime
    opaque = {"__getattr__": "(self, name: str) -> Any"}
    assert {name for name, found in stub.items() if found not in (runtime, runtime | opaque)} \
        == set()
    assert runtime | opaque in stub.values()
