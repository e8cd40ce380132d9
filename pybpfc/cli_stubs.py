"""``pybpfc stubs [-o DIR] [--struct NAME ...] [--tracepoint CATEGORY/NAME ...]``:
typing stubs from the running kernel, so that type checkers and editors know
kernel structs (``pybpfc.vmlinux``: ``task.real_parent.tgid``) and
tracepoint contexts (``pybpfc.tracepoints``: ``ctx.filename``).

The stubs go beside the modules they describe, in the pybpfc package that
is installed: there mypy and pyright find them for any program whose
interpreter imports this pybpfc, with no configuration.  ``-o DIR`` writes
them in DIR instead.  Only the two ``.pyi`` files are written, each
replacing a regular file only.
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, Callable

from pybpfc.cli_errors import EXIT_OK, UserError

# What the command writes: the file, and the module it describes.
FILES = {"vmlinux": "vmlinux.pyi", "tracepoints": "tracepoints.pyi"}

Writer = Callable[[Path, bytes, str], None]


def add_command(commands: Any, parents: list[argparse.ArgumentParser], write: Writer) -> None:
    stubs = commands.add_parser(
        "stubs", parents=parents,
        help="write typing stubs of the running kernel's structs and tracepoints",
        description="Write vmlinux.pyi (kernel structs and unions from "
                    "/sys/kernel/btf/vmlinux, for `from pybpfc.vmlinux import task_struct`) "
                    "and tracepoints.pyi (a class per tracepoint from tracefs, for `from "
                    "pybpfc.tracepoints import syscalls__sys_enter_openat`), so that mypy, "
                    "pyright and editors know their fields.  By default they go beside "
                    "pybpfc/vmlinux.py in the installed pybpfc package, where type checkers "
                    "using this Python find them.  vmlinux.pyi holds common tracing structs "
                    "(task_struct, file, inode, dentry, linux_binprm, mm_struct, cred, "
                    "sk_buff, sock, socket, net_device, ...) and every struct they reach; "
                    "tracepoints.pyi every tracepoint.  Reading tracefs mounts it for the "
                    "read if it is missing (as root).")
    stubs.add_argument("-o", "--output", metavar="DIR",
                       help="the directory to write the .pyi files in (default: the "
                            "installed pybpfc package's)")
    stubs.add_argument("--struct", action="append", default=[], metavar="NAME",
                       help="a struct or union to add, with what it reaches (repeatable)")
    stubs.add_argument("--all-structs", action="store_true",
                       help="every named struct and union of the kernel (about 2 MB; slower "
                            "for type checkers)")
    stubs.add_argument("--depth", type=int, metavar="N",
                       help="write in full only the structs N pointers or fewer from the "
                            "chosen ones (the others accept any field)")
    stubs.add_argument("--tracepoint", action="append", metavar="CATEGORY/NAME",
                       help="write only these tracepoints (repeatable; default: all)")
    stubs.add_argument("--only", choices=sorted(FILES),
                       help="write only one of the two stubs")
    stubs.set_defaults(run=lambda args: _stubs(args, write))


def default_directory() -> Path:
    """The installed pybpfc package: where pybpfc/vmlinux.py and
    pybpfc/tracepoints.py are."""
    import pybpfc
    return Path(pybpfc.__file__).resolve().parent


def _stubs(args: argparse.Namespace, write: Writer) -> int:
    directory = Path(args.output) if args.output is not None else default_directory()
    if not directory.is_dir():
        raise UserError.at(directory, "is not a directory (pybpfc stubs writes its .pyi files "
                                      "in an existing directory)")
    if args.depth is not None and args.depth < 0:
        raise UserError("pybpfc stubs: --depth takes a number of pointers, 0 or more")
    wanted = [args.only] if args.only else list(FILES)
    texts = {name: _stub(name, args) for name in wanted}   # all read before any is written
    for name, (text, what) in texts.items():
        path = directory / FILES[name]
        write(path, text.encode(), "stubs")
        print(f"pybpfc stubs: wrote {path} ({what})")
    return EXIT_OK


def _stub(name: str, args: argparse.Namespace) -> tuple[str, str]:
    from pybpfc.runtime.errors import BpfError
    from pybpfc.stubs_tracepoints import StubError, tracepoints_stub
    from pybpfc.stubs_vmlinux import ROOTS, UnknownStruct, vmlinux_stub
    try:
        if name == "tracepoints":
            text, count = tracepoints_stub(args.tracepoint)
            return text, f"{count} tracepoint{'s' if count != 1 else ''}"
        from pybpfc.runtime.kernel_btf import vmlinux_btf
        text, count = vmlinux_stub(vmlinux_btf(), (*ROOTS, *args.struct), args.depth,
                                   everything=args.all_structs)
        return text, f"{count} structs and unions in full"
    except (StubError, UnknownStruct, BpfError) as err:
        raise UserError(f"pybpfc stubs: error: {err}") from None
    except OSError as err:
        raise UserError(f"pybpfc stubs: error: cannot read the kernel's types: {err}") from None
