"""The ``pybpfc`` command: ``main``, the command line's grammar, and the
compiler's commands (``build`` compiles a program to a BPF object file,
``check`` only checks it).  The runtime's commands are in ``cli_runtime``,
which this module imports and which does not import it.

Exit status: 0 success, 1 a mistake the user can fix (a compile error, a bad
path, a bad option), 2 a bug in pybpfc, 130 interrupted.  A traceback is
printed only with ``--debug``.

The compiler is imported inside the commands, so ``--help`` stays fast; so
are the modules only some paths need (``tempfile`` to write an object,
``traceback`` for ``--debug``).
"""
from __future__ import annotations

import argparse
import contextlib
import gc
import os
import stat
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, NoReturn, Optional, Sequence

from pybpfc.cli_errors import (EXIT_BROKEN_PIPE, EXIT_INTERNAL_ERROR, EXIT_INTERRUPTED,
                               EXIT_OK, EXIT_USER_ERROR, UserError)

if TYPE_CHECKING:
    from pybpfc.compiler.errors import Source

__all__ = ["main", "command", "EXIT_OK", "EXIT_USER_ERROR", "EXIT_INTERNAL_ERROR",
           "EXIT_INTERRUPTED", "EXIT_BROKEN_PIPE", "UserError"]


# ------------------------------------------------------------------ commands


def _build(args: argparse.Namespace) -> int:
    source_path = Path(args.program)
    source = _read_source(source_path)
    output_path = _output_path(source_path, args.output)

    with _without_cycle_collection():
        from pybpfc.compiler.driver import compile_source
        compiled = _compile(compile_source, source)

    _write_atomically(output_path, compiled.elf)
    for program in compiled.plan.programs:
        print(f"{program.name}: {program.section}")
    print(f"wrote {output_path}")
    return EXIT_OK


def _check(args: argparse.Namespace) -> int:
    source = _read_source(Path(args.program))

    with _without_cycle_collection():
        from pybpfc.compiler.driver import check_source, compile_source, plan_of
        compiled = _compile(compile_source if args.load else check_source, source)
        count = len((compiled.plan if args.load else plan_of(compiled)).programs)
    print(f"{source.path}: ok ({count} program{'' if count == 1 else 's'})")
    if args.load:
        from pybpfc.cli_verifier import check_load
        return check_load(compiled.elf, str(Path(source.path).with_suffix(".o")),
                          args.verifier_log)
    return EXIT_OK


def _object_bytes(path_text: str) -> tuple[bytes, str]:
    """The object a runtime command works on: built from a ``.py`` program,
    or read from a file; and the name of its object file.  The runtime's
    commands get this from ``main`` (they do not import this module)."""
    path = Path(path_text)
    if path.suffix == ".py":
        from pybpfc.compiler.driver import compile_source
        source = _read_source(path)
        return _compile(compile_source, source).elf, str(path.with_suffix(".o"))
    return read_file(path), str(path)


def _compile(step: Callable[["Source"], Any], source: "Source") -> Any:
    """Run a compiler entry point, turning a CompileError into a UserError;
    the warnings of a program that compiles go to stderr."""
    from pybpfc.compiler.errors import CompileError
    try:
        result = step(source)
    except CompileError as e:
        raise UserError(e.located(source).render()) from e
    for warning in getattr(result, "warnings", ()):    # (tests stand in plain results)
        print(warning.render(), file=sys.stderr)
    return result


@contextlib.contextmanager
def _without_cycle_collection() -> Iterator[None]:
    """Compile without Python's cyclic garbage collector.  Importing the
    compiler and LLVM's bindings and compiling once makes tens of thousands
    of objects that live until the process ends, and little cyclic garbage;
    the collector would only walk them again and again (about a tenth of
    ``pybpfc build``'s time)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# -------------------------------------------------------------------- files


def read_file(path: Path, limit: int = 1 << 28) -> bytes:
    """A regular file's bytes (an object, say): at most `limit` of them, and
    never from a FIFO or a device, which could block or never end."""
    from pybpfc.compiler.source import UnreadableFile, read_bounded
    try:
        return read_bounded(path, limit)
    except UnreadableFile as e:
        raise UserError.at(path, str(e)) from None


def _read_source(path: Path) -> "Source":
    """The program at `path`, read as Python reads it (pybpfc.compiler.source)."""
    from pybpfc.compiler.errors import CompileError
    from pybpfc.compiler.source import read_source
    try:
        return read_source(path)
    except CompileError as e:
        raise UserError(e.render()) from None


def _output_path(source_path: Path, output: Optional[str]) -> Path:
    """Where ``build`` writes: ``-o`` or the input with suffix ``.o``;
    never the input itself."""
    if output is None:
        if source_path.suffix != ".py":
            raise UserError.at(
                source_path, "cannot name the output (the input does not end in .py); use -o")
        return source_path.with_suffix(".o")
    output_path = Path(output)
    if _same_file(source_path, output_path):
        raise UserError.at(output_path, "refusing to overwrite the input file")
    if output_path.is_dir():
        raise UserError.at(output_path, "is a directory")
    return output_path


def _same_file(a: Path, b: Path) -> bool:
    if a.resolve() == b.resolve():
        return True
    try:
        return os.path.samefile(a, b)   # hard links
    except OSError:
        return False


def _write_atomically(path: Path, data: bytes, command: str = "build") -> None:
    """Write ``path`` so that readers see the old file or the whole new one,
    never a half-written object.  Only a regular file is replaced, and it
    keeps its owner and mode."""
    import tempfile
    existing = _replaceable(path, command)
    try:
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as e:
        raise UserError.at(path, f"cannot write: {e.strerror or e}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            if existing is None:
                # mkstemp makes the file 0600; give it the mode open() would.
                os.fchmod(f.fileno(), 0o666 & ~_umask())
            else:
                # Owner first: chown clears the set-user-ID and set-group-ID bits.
                if (existing.st_uid, existing.st_gid) != (os.getuid(), os.getgid()):
                    os.fchown(f.fileno(), existing.st_uid, existing.st_gid)
                os.fchmod(f.fileno(), stat.S_IMODE(existing.st_mode))
        os.replace(temp, path)
    except BaseException as e:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        if isinstance(e, OSError):
            raise UserError.at(path, f"cannot write: {e.strerror or e}") from None
        raise


_FILE_KINDS = ((stat.S_ISLNK, "a symbolic link"), (stat.S_ISCHR, "a character device"),
               (stat.S_ISBLK, "a block device"), (stat.S_ISFIFO, "a FIFO"),
               (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a directory"))


def _replaceable(path: Path, command: str) -> Optional[os.stat_result]:
    """The regular file at ``path`` that the new object will replace, or
    None if there is nothing there.  Anything else is refused: as root,
    renaming over ``/dev/null``, a FIFO or a symlink would replace it
    with a regular file."""
    try:
        found = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as e:
        raise UserError.at(path, f"cannot write: {e.strerror or e}") from None
    if stat.S_ISREG(found.st_mode):
        return found
    kind = next((name for test, name in _FILE_KINDS if test(found.st_mode)), "not a file")
    raise UserError.at(path, f"is {kind}, not a regular file; pybpfc {command} replaces only "
                             "a regular file (remove it or choose another output)")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# ------------------------------------------------------------------- parser


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # A bad command line is the user's mistake: exit 1, keeping 2 for bugs.
        self.print_usage(sys.stderr)
        self.exit(EXIT_USER_ERROR, f"{self.prog}: error: {message}\n")


class _VersionAction(argparse.Action):
    """Like action='version', but looks the version up only when asked."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> NoReturn:
        print(f"pybpfc {_version()}")
        parser.exit()


def _version() -> str:
    from importlib import metadata
    try:
        return metadata.version("pybpfc")
    except metadata.PackageNotFoundError:   # running from a source tree
        import pybpfc
        return str(getattr(pybpfc, "__version__", "unknown"))


# The compiler's own commands; the runtime's are in cli_runtime.
_COMPILER_COMMANDS = ("build", "check", "simulate")


def _parser(command: Optional[str] = None) -> argparse.ArgumentParser:
    """The command line's grammar.  Given the command that was asked for,
    a compiler command, the runtime's commands are left out (building their
    parsers is a tenth of a small build's time); they are there for every
    other command, for no command, and for ``--help``."""
    parser = _Parser(
        prog="pybpfc",
        description="Compile a typed subset of Python to Linux BPF programs, and load, "
                    "attach and inspect them.")
    parser.add_argument("--version", action=_VersionAction, help="print the version and exit")
    parser.add_argument("--debug", action="store_true",
                        help="print a traceback when pybpfc fails")

    # --debug is accepted after the command too; SUPPRESS keeps the value
    # given before the command when it is not repeated after it.
    debug = _Parser(add_help=False)
    debug.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                       help="print a traceback when pybpfc fails")

    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)

    build = commands.add_parser(
        "build", parents=[debug], help="compile a program to a BPF object file",
        description="Compile a pybpfc program to a BPF ELF object that libbpf and "
                    "bpftool can load.  Prints each program with its section.")
    build.add_argument("program", metavar="PROGRAM.py", help="the program to compile")
    build.add_argument("-o", "--output", metavar="OUT.o",
                       help="the object file to write (default: PROGRAM.o next to the input)")
    build.set_defaults(run=_build)

    check = commands.add_parser(
        "check", parents=[debug], help="check a program without writing anything",
        description="Parse and type-check a pybpfc program; write nothing.")
    check.add_argument("program", metavar="PROGRAM.py", help="the program to check")
    check.add_argument("--load", action="store_true",
                       help="also ask the kernel's verifier: load every program, attaching "
                            "nothing, report and close them")
    from pybpfc.cli_verifier import add_log_option
    add_log_option(check)
    check.set_defaults(run=_check)

    from pybpfc.cli_simulate import add_command as add_simulate
    add_simulate(commands, [debug], read_source=_read_source)
    from pybpfc.cli_stubs import add_command as add_stubs
    add_stubs(commands, [debug], write=_write_atomically)

    if command not in _COMPILER_COMMANDS:
        from pybpfc.cli_runtime import add_commands
        add_commands(commands, [debug], object_bytes=_object_bytes)
    return parser


def _command_word(argv: Sequence[str]) -> Optional[str]:
    """The command in ``argv``: its first word that is not an option (the
    options before the command take no value); None when help for all the
    commands is asked for first."""
    for word in argv:
        if word in ("-h", "--help"):
            return None
        if not word.startswith("-"):
            return word
    return None


# --------------------------------------------------------------------- main


def main(argv: Optional[Sequence[str]] = None) -> int:
    args: Optional[argparse.Namespace] = None
    try:
        words = sys.argv[1:] if argv is None else argv
        args = _parser(_command_word(words)).parse_args(words)
        status: int = args.run(args)
        sys.stdout.flush()   # meet a closed pipe here, not at interpreter exit
        return status
    except UserError as e:
        if args is not None and args.debug and e.__cause__ is not None:
            # Where in the compiler the error was raised.
            import traceback
            traceback.print_exception(e.__cause__)
        print(e, file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _discard_stdout()
        return EXIT_BROKEN_PIPE
    except Exception as e:
        if args is not None and args.debug:
            import traceback
            traceback.print_exc()
            print(f"pybpfc: {_internal_error(e)}", file=sys.stderr)
        else:
            print(f"pybpfc: {_internal_error(e)} (run with --debug for the traceback)",
                  file=sys.stderr)
        return EXIT_INTERNAL_ERROR


def _internal_error(e: Exception) -> str:
    """A bug in pybpfc, in one line whatever the exception says.  The
    compiler's InternalError already says "internal error", and where."""
    from pybpfc.compiler.errors import InternalError
    message = " ".join(str(e).split())
    if isinstance(e, InternalError):
        return message
    return f"internal error: {type(e).__name__}: {message}" if message \
        else f"internal error: {type(e).__name__}"


def command() -> NoReturn:
    """The ``pybpfc`` command as a process runs it (the console script and
    ``python -m pybpfc``): ``main()``, and then the process ends at once.

    Python's own ending (freeing every object, a last garbage collection,
    LLVM's static destructors) took a tenth of a build's time and has
    nothing left to do: the commands close, detach and remove what they
    opened before they return, and the output is flushed here."""
    if _command_word(sys.argv[1:]) in _COMPILER_COMMANDS:
        # A compile makes objects that live until the end, which is near:
        # the collector would only walk them (see _without_cycle_collection).
        gc.disable()
    status = main()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass   # a closed pipe or stream: nothing more can be said there
    os._exit(status)


def _discard_stdout() -> None:
    """After EPIPE, point stdout at /dev/null so Python's final flush does
    not report the same broken pipe again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
