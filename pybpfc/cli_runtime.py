"""The runtime's commands: ``load``, ``detach``, ``maps``, ``objdump``,
``run`` and ``cleanup``.  They use ``pybpfc.runtime``; every runtime error
becomes a one-line user error naming the object at fault.  A program given
as Python is built through the ``object_bytes`` function ``cli`` hands to
:func:`add_commands`, so this module never imports ``cli``."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Optional

from pybpfc.cli_errors import EXIT_OK, UserError
from pybpfc.cli_verifier import add_log_option, write_logs_of

# Reads the object a command names: (ELF bytes, object file name).
ObjectBytes = Callable[[str], tuple[bytes, str]]


def _runtime_errors(command: Callable[[argparse.Namespace], int]
                    ) -> Callable[[argparse.Namespace], int]:
    """Report runtime errors (BpfError) as user errors: they are about the
    object, the kernel or the machine, not bugs in pybpfc."""
    def run(args: argparse.Namespace) -> int:
        from pybpfc.runtime.errors import BpfError, VerifierError
        try:
            return command(args)
        except VerifierError as e:
            from pybpfc.cli_verifier import refusal
            raise refusal(args.command, e, getattr(args, "verifier_log", None)) from e
        except BpfError as e:
            raise UserError(f"pybpfc {args.command}: error: {e}") from e
        except PermissionError as e:
            hint = "" if os.geteuid() == 0 else " (run as root)"
            raise UserError(f"pybpfc {args.command}: error: {e}{hint}") from e
    return run


def _read_spec(args: argparse.Namespace, path_text: str) -> Any:
    from pybpfc.runtime.elf import read_object
    data, name = args.object_bytes(path_text)
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


def _attach_all(coll: Any, cgroup: Optional[Path], dev: Optional[Any] = None) -> list[Any]:
    """Attach every program that goes to a cgroup to ``cgroup``, and with
    ``dev`` (a ``cli_packets.Device``) every XDP and tc program to that
    interface; the others are named as not attached."""
    from pybpfc import abi
    from pybpfc.cli_packets import NETDEV_TARGETS, attach_to_device, check_programs_named
    check_programs_named(coll, dev)
    links = []
    try:
        for prog in coll.programs.values():
            if dev is not None and dev.programs and prog.name not in dev.programs:
                print(f"{prog.name}: not attached: --program names others", file=sys.stderr)
                continue
            if prog.attach_target in NETDEV_TARGETS and dev is not None:
                links.append(attach_to_device(prog, dev))
                continue
            if prog.attach_target != abi.TARGET_CGROUP or cgroup is None:
                hint = " (give --dev IFACE)" if prog.attach_target in NETDEV_TARGETS else ""
                print(f"{prog.name}: not attached: it attaches to "
                      f"{abi.ATTACH_TARGETS[prog.attach_target]}, not a cgroup{hint}",
                      file=sys.stderr)
                continue
            links.append(prog.attach(cgroup))
    except BaseException:
        _close_all(links)
        raise
    return links


def _close_all(links: Iterable[Any]) -> None:
    """Close every link, even when one fails; the first failure is raised."""
    failure: Optional[BaseException] = None
    for link in links:
        try:
            link.close()
        except BaseException as error:   # the others are still detached
            failure = failure or error
    if failure is not None:
        raise failure


# ------------------------------------------------------------------ load


@_runtime_errors
def _load(args: argparse.Namespace) -> int:
    from pybpfc.runtime.collection import load
    from pybpfc.runtime.pinning import pin_all
    from pybpfc.cli_packets import device_for_load
    cgroup = _check_cgroup(args.cgroup) if args.cgroup else None
    device = device_for_load(args)
    if (cgroup is not None or device is not None) and args.pin is None:
        raise UserError("pybpfc load: error: a program attached with a BPF link is detached "
                        "when pybpfc exits; give --pin DIR (on a bpffs) to keep it attached")
    spec = _read_spec(args, args.object)
    with load(spec) as coll:
        write_logs_of(args.verifier_log, coll.programs.values())
        links = _attach_all(coll, cgroup, device) if cgroup or device else []
        try:
            for prog in coll.programs.values():
                info = prog.info()
                link = next((link for link in links if link.program_name == prog.name), None)
                where = "" if link is None else \
                    f" attached to {getattr(link, 'interface', cgroup)}"
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
            _close_all(links)
    return EXIT_OK


@_runtime_errors
def _detach(args: argparse.Namespace) -> int:
    from pybpfc.runtime.pinning import unpin
    done = unpin(args.pin_dir)
    for entry in done.removed:
        print(f"removed {entry}")
    for entry in done.gone:
        print(f"already gone: {entry}")
    for entry in done.kept:
        print(f"kept {entry}: `pybpfc load` did not pin it")
    if done.directory_removed:
        print(f"removed {args.pin_dir}")
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
    values one line per CPU.  A map that cannot be listed says why, and so
    does one whose listing fails: showing maps never fails a command."""
    from pybpfc.runtime.errors import BpfError
    out = out or sys.stdout
    for name, m in maps.items():
        try:
            lines = list(_map_lines(name, m))
        except BpfError as error:
            lines = [f"map {name} ({m.kind}): not listed: {error}"]
        if lines:
            print("\n".join(lines), file=out)
    if globals_ is not None:
        try:
            lines = [f"global {var} = {_format(value)}" for var, value in globals_]
        except BpfError as error:
            lines = [f"globals: not read: {error}"]
        if lines:
            print("\n".join(lines), file=out)


def _map_lines(name: str, m: Any) -> Iterator[str]:
    from pybpfc.runtime.maps import PerCpuMap
    from pybpfc.runtime.pinning import is_datasec
    if is_datasec(m):
        for var, value in m.get(0).items():
            yield f"global {var} = {_format(value)}"
        return
    if m.unlisted_reason is not None:
        yield f"map {name} ({m.kind}): not listed: {m.unlisted_reason}"
        return
    entries = list(m.items())
    if isinstance(m, PerCpuMap):
        yield f"map {name} ({m.kind}, {len(entries)} entries, {m.cpus} CPUs)"
        for key, per_cpu in entries:
            yield f"  {_format(key)}:"
            for cpu, value in enumerate(per_cpu):
                yield f"    cpu{cpu}: {_format(value)}"
        return
    kind = "" if m.kind == "map" else f"{m.kind}, "
    yield f"map {name} ({kind}{len(entries)} entries)"
    for key, value in entries:
        yield f"  {_format(key)}: {_format(value)}"


@_runtime_errors
def _maps(args: argparse.Namespace) -> int:
    target = Path(args.target)
    if target.is_dir():
        from pybpfc.runtime.pinning import open_pinned_maps
        with open_pinned_maps(target) as pinned:
            print_maps(pinned.maps)
        return EXIT_OK
    from pybpfc.runtime.collection import load
    with load(_read_spec(args, args.target)) as coll:
        print_maps(coll.maps, coll.globals.items())
    return EXIT_OK


# --------------------------------------------------------------- objdump


@_runtime_errors
def _objdump(args: argparse.Namespace) -> int:
    from pybpfc.runtime.disasm import objdump
    if args.load and not args.html:
        raise UserError("pybpfc objdump: error: --load goes with --html (the page shows "
                        "what the verifier knew)")
    if args.html:
        from pybpfc.cli_verifier import objdump_html
        return objdump_html(_read_spec(args, args.object), args.load)
    print(objdump(_read_spec(args, args.object)), end="")
    return EXIT_OK


# ------------------------------------------------------------------- run


@_runtime_errors
def _run(args: argparse.Namespace) -> int:
    from pybpfc.runtime.command import terminate_on_signals
    # SIGTERM or SIGHUP before the command runs: unwind, removing what was made.
    with terminate_on_signals():
        return _run_with_the_programs_attached(args)


def _run_with_the_programs_attached(args: argparse.Namespace) -> int:
    from pybpfc.runtime.collection import load
    from pybpfc.runtime.command import CommandCgroup
    from pybpfc.runtime.errors import BpfError
    from pybpfc.cli_packets import device_of
    device = device_of(args)
    command = list(args.cmd)
    if command and command[0] == "--":
        command = command[1:]
    if not command:
        raise UserError("pybpfc run: error: give the command to run, e.g. "
                        "`pybpfc run prog.py -- python3 -c '...'`")
    spec = _read_spec(args, args.program)
    cgroup = CommandCgroup()
    try:
        with cgroup, load(spec) as coll:
            write_logs_of(args.verifier_log, coll.programs.values())
            links = _attach_all(coll, cgroup.path, device)
            try:
                on_cgroup = [link for link in links if not hasattr(link, "interface")]
                if on_cgroup or len(on_cgroup) == len(links):
                    names = ", ".join(link.program_name for link in on_cgroup) or "nothing"
                    print(f"pybpfc run: attached {names} to {cgroup.path}", file=sys.stderr)
                for link in links:
                    if hasattr(link, "interface"):
                        print(f"pybpfc run: attached {link.program_name} to {link.interface} "
                              f"({link.hook})", file=sys.stderr)
                # Returns once the command and everything it started are gone:
                # nothing runs in the cgroup while the programs are detached.
                cgroup.run(command)
            finally:
                _close_all(links)
            print(f"pybpfc run: {command[0]} exited with status {cgroup.exit_status}",
                  file=sys.stderr)
            print_maps(coll.maps, coll.globals.items(), out=sys.stderr)
    except (BpfError, OSError) as error:
        if cgroup.exit_status is None:
            raise
        # The command ran: its status is run's, whatever went wrong after it.
        print(f"pybpfc run: warning: cleaning up after {command[0]}: {error} "
              "(`pybpfc cleanup` removes what a pybpfc run left)", file=sys.stderr)
    assert cgroup.exit_status is not None     # the command ran, or we raised above
    return cgroup.exit_status


@_runtime_errors
def _cleanup(args: argparse.Namespace) -> int:
    from pybpfc.runtime.command import leftovers, owner_of, remove_leftover
    from pybpfc.runtime.errors import BpfError
    gone, alive = leftovers(owner_pid=args.pid)
    for path in alive:
        owner = owner_of(path.name)
        assert owner is not None
        print(f"kept {path}: its pybpfc run (pid {owner[0]}) is still running")
    failed = []
    for leftover in gone:
        try:
            killed = remove_leftover(leftover)
        except BpfError as error:
            failed.append(str(error))
            continue
        processes = (f"killed {len(killed)} process{'' if len(killed) == 1 else 'es'} "
                     f"({', '.join(map(str, killed))})" if killed else "no process left")
        print(f"removed {leftover.path}: {processes}; its pybpfc run "
              f"(pid {leftover.owner_pid}) had gone")
    if not gone and not alive:
        print("nothing to clean up: no cgroup of a pybpfc run is left")
    if failed:
        raise UserError("\n".join(f"pybpfc cleanup: error: {message}" for message in failed))
    return EXIT_OK


# ---------------------------------------------------------------- parser


def add_commands(commands: Any, parents: list[argparse.ArgumentParser],
                 object_bytes: ObjectBytes) -> None:
    """Add the runtime's commands; ``object_bytes`` reads the object (or
    builds the program) a command names."""
    load = commands.add_parser(
        "load", parents=parents, help="load an object into the kernel (and attach it)",
        description="Load every program of an object (or a .py program, built first). With "
                    "--cgroup, attach them to that cgroup v2 directory; with --pin, pin "
                    "programs, maps and links in a bpffs directory so they outlive pybpfc.")
    load.add_argument("object", metavar="OBJ", help="a BPF object file, or a pybpfc program")
    load.add_argument("--cgroup", metavar="PATH", help="the cgroup v2 directory to attach to")
    load.add_argument("--pin", metavar="DIR", help="a directory on a bpffs to pin into")
    add_log_option(load)
    from pybpfc.cli_packets import add_device_options
    add_device_options(load, "until `pybpfc detach DIR`")
    load.set_defaults(run=_load, command="load", object_bytes=object_bytes)

    detach = commands.add_parser(
        "detach", parents=parents, help="detach and unpin what `load --pin` pinned",
        description="Remove the links (detaching the programs), programs and maps that "
                    "`pybpfc load --pin DIR` pinned and recorded in DIR/pybpfc-pins, once "
                    "each is checked to hold the object it recorded; then the folders it "
                    "emptied. Anything else in DIR is kept; DIR must be on a bpffs, and "
                    "no symlink is followed.")
    detach.add_argument("pin_dir", metavar="DIR", help="the directory given to --pin")
    detach.set_defaults(run=_detach, command="detach", object_bytes=object_bytes)

    maps = commands.add_parser(
        "maps", parents=parents, help="show the maps and globals of an object or a pin",
        description="Show maps and global variables, decoded through BTF: of a pin "
                    "directory (the live values), or of an object (its initial values).")
    maps.add_argument("target", metavar="OBJ-or-PIN")
    maps.set_defaults(run=_maps, command="maps", object_bytes=object_bytes)

    objdump = commands.add_parser(
        "objdump", parents=parents, help="disassemble an object with its source lines",
        description="Print each program's instructions, interleaved with the source lines "
                    "(Python or C) they came from.")
    objdump.add_argument("object", metavar="OBJ", help="a BPF object file, or a pybpfc program")
    objdump.add_argument("--html", action="store_true",
                         help="write one self-contained HTML page instead: the source, each "
                              "line's instructions folded under it")
    objdump.add_argument("--load", action="store_true",
                         help="with --html: load each program (attaching nothing) and show "
                              "the verifier's state at each instruction, or why it refused")
    objdump.set_defaults(run=_objdump, command="objdump", object_bytes=object_bytes)

    run = commands.add_parser(
        "run", parents=parents, help="run a command with the hooks attached",
        description="Build the program if given Python, create a temporary cgroup, attach "
                    "every program to it, run CMD inside it, kill whatever CMD left "
                    "running there, then detach, print the maps and globals, and remove "
                    "everything. CMD dies with pybpfc; `pybpfc cleanup` removes what a "
                    "killed run left. The exit status is CMD's.")
    run.add_argument("program", metavar="PROGRAM", help="a pybpfc program (.py) or an object")
    add_log_option(run)
    from pybpfc.cli_packets import add_device_options
    add_device_options(run, "for the command's duration")
    run.add_argument("cmd", nargs=argparse.REMAINDER, metavar="-- CMD ARGS",
                     help="the command to run")
    run.set_defaults(run=_run, command="run", object_bytes=object_bytes)

    cleanup = commands.add_parser(
        "cleanup", parents=parents, help="remove what a killed `pybpfc run` left",
        description="Find the cgroups of `pybpfc run` processes that no longer exist "
                    "(killed with SIGKILL, say), kill the processes still in them and "
                    "remove them. The cgroups of a run still going are kept.")
    cleanup.add_argument("--pid", type=int, metavar="PID",
                         help="only what the pybpfc run with this pid left")
    cleanup.set_defaults(run=_cleanup, command="cleanup", object_bytes=object_bytes)

    from pybpfc.cli_packets import add_test_run_command
    add_test_run_command(commands, parents, object_bytes, _runtime_errors, _read_spec)
