"""The runtime's commands: ``load``, ``detach``, ``maps``, ``objdump``,
``run`` and ``cleanup``.  They use ``pybpfc.runtime``; every runtime error
becomes a one-line user error naming the object at fault.  A program given
as Python is built through the ``object_bytes`` function ``cli`` hands to
:func:`add_commands`, so this module never imports ``cli``."""
from __future__ import annotations

import argparse
import contextlib
import os
import sys
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, NoReturn, Optional

from pybpfc.cli_errors import EXIT_OK, UserError
from pybpfc.cli_tracing import attach_to_events, attaches_to_events, is_event_link
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
    if getattr(args, "settings", None):
        from pybpfc.runtime.settings import apply_settings
        apply_settings(spec, args.settings)
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


def _attach_all(coll: Any, cgroup: Optional[Path], dev: Optional[Any] = None,
                sock: Any = None, events: bool = False) -> list[Any]:
    """Attach every program that goes to a cgroup to ``cgroup``; with
    ``dev`` (a ``cli_packets.Device``) every XDP and tc program to that
    interface; with ``sock`` (a ``run_socket.FilteredSocket``) the socket
    filters to its socket; with ``events``, tracing programs to the events
    their sections name; the others are named as not attached."""
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
            if sock is not None and prog.attach_target == abi.TARGET_SOCKET:
                links.append(prog.attach(sock.socket))
                continue
            if events and attaches_to_events(prog):
                links.append(attach_to_events(prog))
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


def print_maps(maps: dict[str, Any], globals_: Optional[Iterator[tuple[str, Any]]] = None,
               out: Any = None) -> None:
    """Every map's entries, keys and values decoded through BTF; per-CPU
    values one line per CPU.  A map that cannot be listed says why, and so
    does one whose listing fails: showing maps never fails a command."""
    from pybpfc.runtime.errors import BpfError
    from pybpfc.runtime.live import format_value
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
            lines = [f"global {var} = {format_value(value)}" for var, value in globals_]
        except BpfError as error:
            lines = [f"globals: not read: {error}"]
        if lines:
            print("\n".join(lines), file=out)


def _map_lines(name: str, m: Any) -> Iterator[str]:
    from pybpfc.runtime.maps import PerCpuMap
    from pybpfc.runtime.live import format_value
    from pybpfc.runtime.pinning import is_datasec
    if is_datasec(m):
        from pybpfc.abi.maps import HIDDEN_GLOBAL_PREFIX
        for var, value in m.get(0).items():
            if not var.startswith(HIDDEN_GLOBAL_PREFIX):    # the compiler's, not the program's
                yield f"global {var} = {format_value(value)}"
        return
    if m.unlisted_reason is not None:
        yield f"map {name} ({m.kind}): not listed: {m.unlisted_reason}"
        return
    entries = list(m.items())
    if isinstance(m, PerCpuMap):
        yield f"map {name} ({m.kind}, {len(entries)} entries, {m.cpus} CPUs)"
        for key, per_cpu in entries:
            yield f"  {format_value(key)}:"
            for cpu, value in enumerate(per_cpu):
                yield f"    cpu{cpu}: {format_value(value)}"
        return
    kind = "" if m.kind == "map" else f"{m.kind}, "
    yield f"map {name} ({kind}{len(entries)} entries)"
    for key, value in entries:
        yield f"  {format_value(key)}: {format_value(value)}"


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
    from pybpfc.runtime.live import show_histograms, shown_live
    from pybpfc.runtime.stack_counts import Remembering, StackNamer, show_stacks
    namer = StackNamer()
    device = device_of(args)
    command = _command_of(args)
    if not command:
        raise UserError("pybpfc run: error: give the command to run, e.g. "
                        "`pybpfc run prog.py -- python3 -c '...'`")
    spec = _read_spec(args, args.program)
    cgroup = CommandCgroup()
    try:
        with cgroup, load(spec) as coll:
            write_logs_of(args.verifier_log, coll.programs.values())
            # The readers are there before the programs run: nothing is missed.
            with _run_socket(args) as sock, shown_live(
                    coll, sources=[(sock.name, sock)] if sock is not None else []):
                links = _attach_all(coll, cgroup.path, device, sock, events=True)
                try:
                    _say_attached(links, cgroup.path, sock)
                    # Returns once the command and everything it started are gone:
                    # nothing runs in the cgroup while the programs are detached.
                    with Remembering(coll, namer):
                        cgroup.run(command)
                finally:
                    _close_all(links)
            print(f"pybpfc run: {command[0]} exited with status {cgroup.exit_status}",
                  file=sys.stderr)
            shown = show_histograms(coll, out=sys.stderr)
            shown += show_stacks(coll, namer, out=sys.stderr)
            print_maps({name: m for name, m in coll.maps.items() if name not in shown},
                       coll.globals.items(), out=sys.stderr)
    except (BpfError, OSError) as error:
        if cgroup.exit_status is None:
            raise
        # The command ran: its status is run's, whatever went wrong after it.
        print(f"pybpfc run: warning: cleaning up after {command[0]}: {error} "
              "(`pybpfc cleanup` removes what a pybpfc run left)", file=sys.stderr)
    assert cgroup.exit_status is not None     # the command ran, or we raised above
    return cgroup.exit_status


@contextlib.contextmanager
def _run_socket(args: argparse.Namespace) -> Iterator[Any]:
    """The socket ``--socket`` asks for (None without it), named to the
    command in its environment, closed at the end."""
    if args.socket is None:
        yield None
        return
    from pybpfc.runtime.run_socket import ENVIRONMENT, FilteredSocket
    with FilteredSocket(args.socket) as sock:
        os.environ[ENVIRONMENT] = sock.address
        yield sock
        print(f"pybpfc run: socket {sock.name} received {sock.received} datagram"
              f"{'' if sock.received == 1 else 's'}", file=sys.stderr)


def _say_attached(links: list[Any], cgroup: Path, sock: Any) -> None:
    from pybpfc.runtime.link import SocketFilter
    on_socket = [link.program_name for link in links if isinstance(link, SocketFilter)]
    on_device = [link for link in links if hasattr(link, "interface")]
    on_cgroup = [link.program_name for link in links
                 if not isinstance(link, SocketFilter) and not hasattr(link, "interface")
                 and not is_event_link(link)]
    on_events = any(is_event_link(link) for link in links)
    for link in on_device:
        print(f"pybpfc run: attached {link.program_name} to {link.interface} ({link.hook})",
              file=sys.stderr)
    if on_cgroup or not (on_socket or on_device or on_events):
        print(f"pybpfc run: attached {', '.join(on_cgroup) or 'nothing'} to {cgroup}",
              file=sys.stderr)
    if on_socket:
        print(f"pybpfc run: attached {', '.join(on_socket)} to socket {sock.name}, which "
              f"the command finds in $PYBPFC_SOCKET", file=sys.stderr)


def _command_of(args: argparse.Namespace) -> list[str]:
    """The command after PROGRAM.  Options of run written between PROGRAM
    and ``--`` (``pybpfc run prog.py --set n=1 -- CMD``) are parsed into
    ``args``; a word after PROGRAM that is not an option starts the command."""
    words = list(args.cmd)
    if not words or not words[0].startswith("-"):
        return words
    if words[0] == "--":
        return words[1:]
    if "--" not in words:
        raise UserError(f"pybpfc run: error: {words[0]} after PROGRAM: put `--` between "
                        f"run's options and the command, e.g. `pybpfc run "
                        f"{args.program} {words[0]} ... -- CMD`")
    split = words.index("--")
    # --set appends to what was given before PROGRAM.
    args.options_after_program.parse_args(words[:split], namespace=args)
    return words[split + 1:]


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
    instances = _clean_trace_instances(args.pid, failed)
    if not gone and not alive and not instances:
        print("nothing to clean up: no cgroup of a pybpfc run is left")
    if failed:
        raise UserError("\n".join(f"pybpfc cleanup: error: {message}" for message in failed))
    return EXIT_OK


def _clean_trace_instances(owner_pid: Optional[int], failed: list[str]) -> list[str]:
    """Remove the trace instances (print() readers) of pybpfc processes
    that are gone; their names."""
    from pybpfc.runtime.errors import BpfError
    from pybpfc.runtime.trace_output import leftover_instances, remove_leftover_instance
    try:
        found = leftover_instances(owner_pid)
    except BpfError:
        return []        # no tracefs to reach: no reader can have left an instance there
    for name, pid in found:
        try:
            remove_leftover_instance(name)
        except BpfError as error:
            failed.append(str(error))
            continue
        print(f"removed trace instance {name}: its pybpfc (pid {pid}) had gone")
    return [name for name, _ in found]


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
    _add_set_option(load)
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
    _add_run_options(run)
    run.add_argument("cmd", nargs=argparse.REMAINDER, metavar="-- CMD ARGS",
                     help="the command to run (options of run may also come between "
                          "PROGRAM and --)")
    run.set_defaults(run=_run, command="run", object_bytes=object_bytes,
                     options_after_program=_options_after_program(parents))

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

def _add_set_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--set", metavar="NAME=VALUE", action="append", dest="settings",
                        default=[],
                        help="give a ReadOnly global its value before loading (again for "
                             "more: --set limit=10 --set verbose=true)")


def _add_run_options(parser: argparse.ArgumentParser) -> None:
    from pybpfc.cli_packets import add_device_options
    add_log_option(parser)
    add_device_options(parser, "for the command's duration")
    _add_set_option(parser)
    parser.add_argument("--socket", metavar="udp:PORT",
                        help="open a UDP socket on 127.0.0.1 (udp6: ::1) port PORT (0: any "
                             "free one), attach the socket filters to it and show what it "
                             "receives; CMD finds it in $PYBPFC_SOCKET")


class _OptionsAfterProgram(argparse.ArgumentParser):
    """Run's options written between PROGRAM and ``--``; a word there that
    is none of them is a user error."""

    def error(self, message: str) -> NoReturn:
        raise UserError(f"pybpfc run: error: {message} (between PROGRAM and `--` go only "
                        "run's options; the command goes after `--`)")


def _options_after_program(parents: list[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    parser = _OptionsAfterProgram(prog="pybpfc run PROGRAM", parents=parents, add_help=False,
                                  argument_default=argparse.SUPPRESS)
    _add_run_options(parser)
    return parser
