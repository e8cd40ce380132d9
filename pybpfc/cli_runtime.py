"""The runtime's commands: ``load``, ``detach``, ``maps``, ``objdump`` and
``run``.  They use ``pybpfc.runtime`` (and the compiler only when ``run``
is given a Python program); every runtime error becomes a one-line user
error naming the object at fault."""
from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any, Callable, Iterator, NoReturn, Optional, Sequence

from pybpfc.cli import EXIT_OK, UserError, read_file


def _runtime_errors(command: Callable[[argparse.Namespace], int]
                    ) -> Callable[[argparse.Namespace], int]:
    """Report runtime errors (BpfError) as user errors: they are about the
    object, the kernel or the machine, not bugs in pybpfc."""
    def run(args: argparse.Namespace) -> int:
        from pybpfc.runtime.errors import BpfError
        try:
            return command(args)
        except BpfError as e:
            raise UserError(f"pybpfc {args.command}: error: {e}") from e
        except PermissionError as e:
            raise UserError(f"pybpfc {args.command}: error: {e} (run as root)") from e
    return run


def _object_bytes(path_text: str) -> tuple[bytes, str]:
    """The object to load: built from a ``.py`` program, or read from a file."""
    path = Path(path_text)
    if path.suffix == ".py":
        from pybpfc.cli import _compile, _read_source
        from pybpfc.compiler.driver import compile_source
        source = _read_source(path)
        return _compile(compile_source, source).elf, str(path.with_suffix(".o"))
    return read_file(path), str(path)


def _read_spec(path_text: str) -> Any:
    from pybpfc.runtime.elf import read_object
    data, name = _object_bytes(path_text)
    spec = read_object(data)
    spec.path = name
    return spec


def _check_cgroup(path_text: str) -> Path:
    from pybpfc.runtime.cgroup import cgroup2_root, is_cgroup2_dir
    path = Path(path_text)
    if not path.exists():
        raise UserError(f"{path}: error: no such cgroup (cgroup v2 is mounted at "
                        f"{cgroup2_root()})")
    if not is_cgroup2_dir(path):
        raise UserError(f"{path}: error: not a cgroup v2 directory (cgroup v2 is mounted at "
                        f"{cgroup2_root()})")
    return path


def _attach_all(coll: Any, cgroup: Path) -> list[Any]:
    from pybpfc.runtime import bpf
    links = []
    try:
        for prog in coll.programs.values():
            if prog.spec.prog_type == bpf.BPF_PROG_TYPE_SOCKET_FILTER:
                print(f"{prog.name}: not attached: a socket filter attaches to a socket, "
                      "not a cgroup", file=sys.stderr)
                continue
            links.append(prog.attach(cgroup))
    except BaseException:
        for link in links:
            link.close()
        raise
    return links


# ------------------------------------------------------------------ load


@_runtime_errors
def _load(args: argparse.Namespace) -> int:
    from pybpfc.runtime.collection import load
    from pybpfc.runtime.pinning import pin_all
    cgroup = _check_cgroup(args.cgroup) if args.cgroup else None
    if cgroup is not None and args.pin is None:
        raise UserError("pybpfc load: error: a program attached with a BPF link is detached "
                        "when pybpfc exits; give --pin DIR (on a bpffs) to keep it attached")
    spec = _read_spec(args.object)
    with load(spec) as coll:
        links = _attach_all(coll, cgroup) if cgroup is not None else []
        try:
            for prog in coll.programs.values():
                info = prog.info()
                where = f" attached to {cgroup}" if any(
                    link.program_name == prog.name for link in links) else ""
                print(f"{prog.name}: {prog.spec.section}, id {info.id}, "
                      f"{info.verified_insns} instructions verified{where}")
            if args.pin is not None:
                maps = [(m.name, m.fd) for m in coll.maps.values()]
                maps += [(m.name, m.fd) for m in coll.data.values()]
                root = pin_all(args.pin, [(p.name, p.fd) for p in coll.programs.values()],
                               maps, links)
                print(f"pinned under {root}; `pybpfc detach {root}` removes it all")
            else:
                print("the kernel accepted every program; nothing was kept "
                      "(give --pin DIR to keep them)")
        finally:
            for link in links:
                link.close()
    return EXIT_OK


@_runtime_errors
def _detach(args: argparse.Namespace) -> int:
    from pybpfc.runtime.pinning import unpin
    for entry in unpin(args.pin_dir):
        print(f"removed {entry}")
    return EXIT_OK


# ------------------------------------------------------------------ maps


def _format(value: Any, indent: str = "  ") -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_format(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_format(v) for v in value) + "]"
    if isinstance(value, bytes):
        text = value.rstrip(b"\0")
        return repr(text) if all(32 <= b < 127 for b in text) else value.hex()
    return str(value)


def print_maps(maps: dict[str, Any], globals_: Optional[Iterator[tuple[str, Any]]] = None,
               out: Any = None) -> None:
    """Every map's entries, keys and values decoded through BTF; per-CPU
    values one line per CPU; maps that cannot be listed say why."""
    out = out or sys.stdout
    from pybpfc.runtime.maps import PerCpuMap
    from pybpfc.runtime.pinning import is_datasec
    for name, m in maps.items():
        if is_datasec(m):
            for var, value in m.get(0).items():
                print(f"global {var} = {_format(value)}", file=out)
            continue
        if m.unlisted_reason is not None:
            print(f"map {name} ({m.kind}): not listed: {m.unlisted_reason}", file=out)
            continue
        entries = list(m.items())
        if isinstance(m, PerCpuMap):
            print(f"map {name} ({m.kind}, {len(entries)} entries, {m.cpus} CPUs)", file=out)
            for key, per_cpu in entries:
                print(f"  {_format(key)}:", file=out)
                for cpu, value in enumerate(per_cpu):
                    print(f"    cpu{cpu}: {_format(value)}", file=out)
            continue
        kind = "" if m.kind == "map" else f"{m.kind}, "
        print(f"map {name} ({kind}{len(entries)} entries)", file=out)
        for key, value in entries:
            print(f"  {_format(key)}: {_format(value)}", file=out)
    for var, value in globals_ or ():
        print(f"global {var} = {_format(value)}", file=out)


@_runtime_errors
def _maps(args: argparse.Namespace) -> int:
    target = Path(args.target)
    if target.is_dir():
        from pybpfc.runtime.pinning import open_pinned_maps
        with open_pinned_maps(target) as pinned:
            print_maps(pinned.maps)
        return EXIT_OK
    from pybpfc.runtime.collection import load
    with load(_read_spec(args.target)) as coll:
        print_maps(coll.maps, coll.globals.items())
    return EXIT_OK


# --------------------------------------------------------------- objdump


@_runtime_errors
def _objdump(args: argparse.Namespace) -> int:
    from pybpfc.runtime.disasm import objdump
    print(objdump(_read_spec(args.object)), end="")
    return EXIT_OK


# ------------------------------------------------------------------- run


class _Terminated(SystemExit):
    """SIGTERM or SIGHUP before the command runs: unwind, removing what was
    made, and exit as the signal would have."""


def _terminate(signum: int, _frame: object) -> None:
    raise _Terminated(128 + signum)


@_runtime_errors
def _run(args: argparse.Namespace) -> int:
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _terminate)
    from pybpfc.runtime.cgroup import TemporaryCgroup
    from pybpfc.runtime.collection import load
    command = list(args.cmd)
    if command and command[0] == "--":
        command = command[1:]
    if not command:
        raise UserError("pybpfc run: error: give the command to run, e.g. "
                        "`pybpfc run prog.py -- python3 -c '...'`")
    spec = _read_spec(args.program)
    with TemporaryCgroup() as cgroup, load(spec) as coll:
        links = _attach_all(coll, cgroup.path)
        try:
            names = ", ".join(link.program_name for link in links) or "nothing"
            print(f"pybpfc run: attached {names} to {cgroup.path}", file=sys.stderr)
            status = _run_in_cgroup(command, cgroup)
        finally:
            for link in links:
                link.close()
            _empty(cgroup)
        print(f"pybpfc run: {command[0]} exited with status {status}", file=sys.stderr)
        print_maps(coll.maps, coll.globals.items(), out=sys.stderr)
    return status


FORWARDED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _run_in_cgroup(command: Sequence[str], cgroup: Any) -> int:
    """Run ``command`` as a child inside the cgroup; forward SIGINT, SIGTERM
    and SIGHUP to it; return its exit status (128 + signal if killed)."""
    child = {"pid": 0}

    def forward(signum: int, _frame: object) -> None:
        if child["pid"] > 0:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child["pid"], signum)
        else:
            raise _Terminated(128 + signum)

    previous = {signum: signal.signal(signum, forward) for signum in FORWARDED_SIGNALS}
    ready_r, ready_w = os.pipe()
    try:
        pid = os.fork()
        if pid == 0:
            _become_command(command, ready_r, ready_w)
        child["pid"] = pid
        os.close(ready_r)
        try:
            cgroup.add_pid(pid)
            os.write(ready_w, b"x")      # now in the cgroup: go on
        finally:
            os.close(ready_w)
        while True:
            try:
                _, status = os.waitpid(pid, 0)
                break
            except InterruptedError:
                continue
    except BaseException:
        if child["pid"] > 0:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child["pid"], signal.SIGKILL)
            os.waitpid(child["pid"], 0)
        raise
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


def _become_command(command: Sequence[str], ready_r: int, ready_w: int) -> NoReturn:
    """In the forked child: wait until the parent has moved it into the
    cgroup, then exec the command.  Never returns, never runs the parent's
    clean-up code."""
    try:
        for signum in FORWARDED_SIGNALS:
            signal.signal(signum, signal.SIG_DFL)
        os.close(ready_w)
        if os.read(ready_r, 1) != b"x":      # the parent gave up
            os._exit(1)
        os.execvp(command[0], list(command))
    except OSError as e:
        print(f"pybpfc run: cannot run {command[0]}: {e.strerror}", file=sys.stderr)
        os._exit(127)
    except BaseException:
        os._exit(1)
    os._exit(1)


def _empty(cgroup: Any) -> None:
    """Processes the command left behind in the cgroup (its own children)
    are ended, so the cgroup can be removed."""
    if not cgroup.pids():
        return
    kill = Path(cgroup.path, "cgroup.kill")
    if kill.exists():
        kill.write_text("1")
    else:
        for pid in cgroup.pids():
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 2
    while cgroup.pids() and time.monotonic() < deadline:
        time.sleep(0.02)


# ---------------------------------------------------------------- parser


def add_commands(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    load = commands.add_parser(
        "load", parents=parents, help="load an object into the kernel (and attach it)",
        description="Load every program of an object (or a .py program, built first). With "
                    "--cgroup, attach them to that cgroup v2 directory; with --pin, pin "
                    "programs, maps and links in a bpffs directory so they outlive pybpfc.")
    load.add_argument("object", metavar="OBJ", help="a BPF object file, or a pybpfc program")
    load.add_argument("--cgroup", metavar="PATH", help="the cgroup v2 directory to attach to")
    load.add_argument("--pin", metavar="DIR", help="a directory on a bpffs to pin into")
    load.set_defaults(run=_load, command="load")

    detach = commands.add_parser(
        "detach", parents=parents, help="detach and unpin what `load --pin` pinned",
        description="Remove the links (detaching the programs), programs and maps that "
                    "`pybpfc load --pin DIR` pinned.")
    detach.add_argument("pin_dir", metavar="DIR", help="the directory given to --pin")
    detach.set_defaults(run=_detach, command="detach")

    maps = commands.add_parser(
        "maps", parents=parents, help="show the maps and globals of an object or a pin",
        description="Show maps and global variables, decoded through BTF: of a pin "
                    "directory (the live values), or of an object (its initial values).")
    maps.add_argument("target", metavar="OBJ-or-PIN")
    maps.set_defaults(run=_maps, command="maps")

    objdump = commands.add_parser(
        "objdump", parents=parents, help="disassemble an object with its source lines",
        description="Print each program's instructions, interleaved with the source lines "
                    "(Python or C) they came from.")
    objdump.add_argument("object", metavar="OBJ", help="a BPF object file, or a pybpfc program")
    objdump.set_defaults(run=_objdump, command="objdump")

    run = commands.add_parser(
        "run", parents=parents, help="run a command with the hooks attached",
        description="Build the program if given Python, create a temporary cgroup, attach "
                    "every program to it, run CMD inside it, print the maps and globals, "
                    "and remove everything. The exit status is CMD's.")
    run.add_argument("program", metavar="PROGRAM", help="a pybpfc program (.py) or an object")
    run.add_argument("cmd", nargs=argparse.REMAINDER, metavar="-- CMD ARGS",
                     help="the command to run")
    run.set_defaults(run=_run, command="run")
