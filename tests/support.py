"""Helpers for tests that need the real kernel, bpftool or the CLI.

A kernel test that cannot run here skips with the reason; under CI
(``CI=true``) it fails instead, so a broken CI machine cannot pass by
skipping everything.
"""
from __future__ import annotations

import contextlib
import glob
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional, Union

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent

StrPath = Union[str, "os.PathLike[str]"]


def under_ci() -> bool:
    return os.environ.get("CI") == "true"


def require_kernel_feature(name: str, ok: bool, why: str) -> None:
    """Skip the test when ``ok`` is false; under CI, fail it loudly."""
    if ok:
        return
    message = f"{name} unavailable: {why}"
    if under_ci():
        pytest.fail(f"{message} (CI=true: a missing feature is a failure, not a skip)",
                    pytrace=False)
    pytest.skip(message)


def require_root(what: str) -> None:
    require_kernel_feature("root", os.geteuid() == 0, f"{what} needs root")


# ---------------------------------------------------------------- mountinfo


@dataclass(frozen=True)
class Mount:
    mount_point: Path
    root: str          # the path inside the filesystem that is mounted
    fs_type: str
    source: str


def _unescape(field: str) -> str:
    # The kernel writes space, tab, newline and backslash as \ooo octal.
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def parse_mountinfo(text: str) -> list[Mount]:
    """Parse /proc/self/mountinfo (see proc(5)).

    Fields: id, parent id, major:minor, root, mount point, options, zero or
    more optional fields, a lone "-", then filesystem type, source and
    super-block options.  The "-" is searched for only after the first six
    fields, so a mount point named "-" cannot be taken for it.
    """
    mounts = []
    for line in text.splitlines():
        fields = line.split(" ")
        if len(fields) < 10:
            continue
        try:
            dash = fields.index("-", 6)
        except ValueError:
            continue
        if dash + 2 >= len(fields):
            continue
        mounts.append(Mount(mount_point=Path(_unescape(fields[4])),
                            root=_unescape(fields[3]),
                            fs_type=fields[dash + 1],
                            source=_unescape(fields[dash + 2])))
    return mounts


def read_mountinfo() -> str:
    return Path("/proc/self/mountinfo").read_text()


def mounts_of_type(fs_type: str, mountinfo: Optional[str] = None) -> list[Mount]:
    text = read_mountinfo() if mountinfo is None else mountinfo
    return [m for m in parse_mountinfo(text) if m.fs_type == fs_type]


def _cgroup2_mounts(mountinfo: Optional[str] = None) -> list[Mount]:
    """The cgroup2 mounts, a mount of the hierarchy's root before bind
    mounts of a sub-group."""
    mounts = mounts_of_type("cgroup2", mountinfo)
    mounts.sort(key=lambda m: m.root != "/")
    return mounts


def cgroup2_root(mountinfo: Optional[str] = None) -> Path:
    """Where the cgroup v2 hierarchy is mounted (from /proc/self/mountinfo,
    or from ``mountinfo`` when given)."""
    mounts = _cgroup2_mounts(mountinfo)
    require_kernel_feature("cgroup v2", bool(mounts), "no cgroup2 filesystem is mounted")
    return mounts[0].mount_point


def pybpfc_cgroups() -> set[Path]:
    """Every cgroup named pybpfc-* below the cgroup v2 root (none when no
    cgroup v2 is mounted)."""
    mounts = _cgroup2_mounts()
    if not mounts:
        return set()
    return {p for p in mounts[0].mount_point.rglob("pybpfc-*") if p.is_dir()}


def pybpfc_bpffs_mounts() -> set[Path]:
    """Every bpffs mounted on a directory named pybpfc-*."""
    return {m.mount_point for m in mounts_of_type("bpf")
            if m.mount_point.name.startswith("pybpfc-")}


# The pybpfc cgroups and bpffs mounts there before the test session began
# (left by a process that was killed, say): the residue checks judge only
# what the tests made.
CGROUPS_BEFORE_SESSION = pytest.StashKey[set]()
BPFFS_BEFORE_SESSION = pytest.StashKey[set]()
# Cgroup -> the kernel test it appeared during (conftest notes it).
CGROUPS_APPEARED_DURING = pytest.StashKey[dict]()


def is_mounted(path: StrPath, fs_type: Optional[str] = None) -> bool:
    target = Path(path)
    return any(m.mount_point == target and (fs_type is None or m.fs_type == fs_type)
               for m in parse_mountinfo(read_mountinfo()))


# -------------------------------------------------------------------- bpffs


@contextlib.contextmanager
def mounted_bpffs(prefix: str = "pybpfc-bpffs-") -> Iterator[Path]:
    """Mount a fresh bpffs on a new temporary directory; unmount and remove
    it on the way out, whatever happened inside."""
    require_root("mounting a bpffs")
    # Resolved: mountinfo shows the real path, with symlinks followed.
    directory = Path(tempfile.mkdtemp(prefix=prefix)).resolve()
    try:
        mount = subprocess.run(["mount", "-t", "bpf", "bpf", str(directory)],
                               capture_output=True, text=True)
        require_kernel_feature("bpffs", mount.returncode == 0,
                               f"mount -t bpf failed: {mount.stderr.strip()}")
        try:
            yield directory
        finally:
            # Unmounting a bpffs drops its pins, and with them the programs.
            if subprocess.run(["umount", str(directory)], capture_output=True).returncode:
                subprocess.run(["umount", "-l", str(directory)], capture_output=True)
    finally:
        with contextlib.suppress(OSError):
            directory.rmdir()


# ------------------------------------------------------------------- tools


def find_tool(name: str) -> Optional[str]:
    """A command's path: on PATH, in /usr/sbin (Debian's bpftool, which a
    non-login PATH may lack), or an LLVM tool under its versioned name."""
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/bin/{name}-[0-9]*") +
                        glob.glob(f"/usr/lib/llvm-*/bin/{name}"))
    return candidates[-1] if candidates else None


def c_include_flags() -> list[str]:
    # <linux/types.h> includes <asm/types.h>, which Debian keeps per architecture.
    return [f"-I{Path(p).parent.parent}" for p in glob.glob("/usr/include/*/asm/types.h")]


def clang_bpf_command(clang: str, source: StrPath, out: StrPath, *flags: str) -> list[str]:
    """Debian's clang as a C programmer runs it on a libbpf program."""
    return [clang, "-O2", "-g", "-target", "bpf", *flags, *c_include_flags(), "-c",
            str(source), "-o", str(out)]


# ------------------------------------------------------------------ bpftool


def find_bpftool() -> str:
    """The bpftool binary; skips the test if absent (fails under CI)."""
    path = find_tool("bpftool")
    require_kernel_feature("bpftool", path is not None,
                           "bpftool is not installed (make venv installs it)")
    assert path is not None
    return path


def bpftool_loadall(obj_path: StrPath, pin_dir: StrPath) -> "subprocess.CompletedProcess[str]":
    """``bpftool prog loadall OBJ PINDIR``: load every program of an object
    and pin each under PINDIR.  Does not check the exit status, so a test
    can look at a verifier rejection."""
    return subprocess.run([find_bpftool(), "prog", "loadall", str(obj_path), str(pin_dir)],
                          capture_output=True, text=True)


def bpftool_sections_unknown(obj_path: StrPath) -> list[str]:
    """The object's program sections the installed bpftool cannot load:
    libbpf 1.1 guesses no program type for the Unix-socket sock_addr hooks
    (Linux 6.7; libbpf 1.3 knows them)."""
    from pybpfc import abi
    from pybpfc.runtime.elf import read_object
    unix = {k.name for k in abi.PROGRAM_KINDS
            if (k.attach_type or "").startswith("BPF_CGROUP_UNIX_")}
    spec = read_object(Path(obj_path).read_bytes())
    return sorted({p.section for p in spec.programs.values()} & unix)


def loadall(obj_path: StrPath, pin_dir: StrPath) -> "subprocess.CompletedProcess[str]":
    """``bpftool_loadall``; for an object bpftool cannot load (see
    ``bpftool_sections_unknown``), the runtime loads it and pins each
    program under PINDIR by its name, as bpftool does, so that bpftool
    still reads it back."""
    unknown = bpftool_sections_unknown(obj_path)
    if not unknown:
        return bpftool_loadall(obj_path, pin_dir)
    from pybpfc.runtime.collection import load
    from pybpfc.runtime.errors import BpfError
    args = ["pybpfc.runtime.load", str(obj_path), str(pin_dir)]
    try:
        with load(Path(obj_path).read_bytes()) as coll:
            os.makedirs(pin_dir, exist_ok=True)
            for name, program in coll.programs.items():
                program.pin(Path(pin_dir) / name)
    except BpfError as err:
        return subprocess.CompletedProcess(args, 1, "", str(err))
    return subprocess.CompletedProcess(args, 0, "", "")


def bpftool_dump_xlated_linum(pinned_prog_path: StrPath) -> str:
    """The kernel's translated instructions of a pinned program,
    interleaved with source lines and their file:line."""
    result = subprocess.run(
        [find_bpftool(), "prog", "dump", "xlated", "pinned", str(pinned_prog_path), "linum"],
        capture_output=True, text=True)
    if result.returncode != 0:
        raise AssertionError(
            f"bpftool prog dump xlated {pinned_prog_path} failed "
            f"(exit {result.returncode}): {result.stderr.strip()}")
    return result.stdout


# ----------------------------------------------------------- hand assembly


def insn(code: int, dst: int = 0, src: int = 0, off: int = 0, imm: int = 0) -> bytes:
    """One struct bpf_insn (little-endian register nibbles)."""
    return struct.pack("<BBhi", code, (src << 4) | dst, off, imm)


# ---------------------------------------------------------------------- CLI


def pybpfc_cli(*args: StrPath, cwd: Optional[StrPath] = None,
               timeout: float = 120) -> "subprocess.CompletedProcess[str]":
    """Run ``python -m pybpfc ARGS`` in a subprocess, on this working tree."""
    env = dict(os.environ)
    # The working tree first, so the tests exercise it even from another cwd.
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
    return subprocess.run([sys.executable, "-m", "pybpfc", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, env=env, timeout=timeout)


# ------------------------------------------------------------ cgroup children


def run_in_cgroup(cgroup_path: StrPath, fn, *args):  # type: ignore[no-untyped-def]
    """Run ``fn(*args)`` in a forked child that first moves itself into the
    cgroup, and return its result (or re-raise its exception).  Socket
    hooks act on sockets created inside the cgroup, so everything the test
    wants judged happens in the child."""
    import pickle
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(read_end)
        report_to_parent(write_end, lambda: Path(cgroup_path, "cgroup.procs").write_text(
            str(os.getpid())), fn, *args)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        data = pipe.read()
    os.waitpid(pid, 0)
    kind, value = pickle.loads(data)
    if kind == "error":
        raise AssertionError(f"the child in {cgroup_path} failed: {value}")
    return value


def report_to_parent(write_end: int, enter, fn, *args) -> None:  # type: ignore[no-untyped-def]
    """In a forked child: ``enter()`` (into a cgroup, a namespace), then
    ``fn(*args)``; its result or its failure, pickled, down the pipe; then
    the child ends."""
    import pickle
    import traceback
    try:
        enter()
        outcome = ("ok", fn(*args))
    except BaseException as exc:  # reported to the parent, never lost
        outcome = ("error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}")
    try:
        data = pickle.dumps(outcome)
    except Exception as exc:
        data = pickle.dumps(("error", f"result not picklable: {exc}"))
    with os.fdopen(write_end, "wb") as pipe:
        pipe.write(data)
    os._exit(0)


def errno_of(call, *args) -> int:  # type: ignore[no-untyped-def]
    """0 when ``call(*args)`` succeeds, else the OSError's errno."""
    try:
        call(*args)
    except OSError as err:
        return err.errno or -1
    return 0


def unshare_network() -> None:
    """Give the calling process its own network namespace, so the net.*
    sysctls it writes are its own and vanish with it."""
    import ctypes

    from pybpfc.abi.system import CLONE_NEWNET
    if ctypes.CDLL(None, use_errno=True).unshare(CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNET)")


# ------------------------------------------------------ C objects and attaching


def clang_bpf(source: StrPath, out: StrPath, *flags: str) -> Path:
    """``clang -O2 -g -target bpf -c SOURCE -o OUT`` (fails under CI=true
    when clang is missing)."""
    clang = find_tool("clang")
    require_kernel_feature("clang", clang is not None, "clang is not installed")
    assert clang is not None
    result = subprocess.run(clang_bpf_command(clang, source, out, *flags),
                            capture_output=True, text=True)
    assert result.returncode == 0, f"clang failed on {Path(source).name}:\n{result.stderr}"
    return Path(out)


class Attached:
    """An object loaded, with every program attached to one cgroup.
    Leaving the ``with`` detaches them all and closes the collection; in
    between it reads like the collection (``globals``, ``maps``,
    ``programs``, ``coll["name"]``)."""

    def __init__(self, source: object, cgroup: object):
        from pybpfc.runtime.collection import load
        self.coll = load(source)  # type: ignore[arg-type]
        self.links: list = []
        try:
            for program in self.coll.programs.values():
                self.links.append(program.attach(cgroup.path))  # type: ignore[attr-defined]
        except BaseException:
            self.close()
            raise

    @property
    def globals(self):  # type: ignore[no-untyped-def]
        return self.coll.globals

    @property
    def maps(self):  # type: ignore[no-untyped-def]
        return self.coll.maps

    @property
    def programs(self):  # type: ignore[no-untyped-def]
        return self.coll.programs

    def __getitem__(self, program: str):  # type: ignore[no-untyped-def]
        return self.coll[program]

    def detach(self) -> None:
        for link in self.links:
            link.close()
        self.links = []

    def close(self) -> None:
        self.detach()
        self.coll.close()

    def __enter__(self) -> "Attached":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# -------------------------------------------------- tracing programs in C

TRACING_C = REPO_ROOT / "tests" / "c" / "tracing"
VMLINUX_BTF = Path("/sys/kernel/btf/vmlinux")
# libbpf's bpf_tracing.h names each architecture's registers by __TARGET_ARCH_*.
TARGET_ARCH = {"x86_64": "x86", "aarch64": "arm64", "riscv64": "riscv", "s390x": "s390",
               "ppc64le": "powerpc", "loongarch64": "loongarch"}


def vmlinux_header(directory: StrPath) -> Path:
    """``vmlinux.h`` of the running kernel, dumped from its BTF by bpftool
    into ``directory``: the types libbpf-style tracing programs include."""
    require_kernel_feature("kernel BTF", VMLINUX_BTF.is_file(), f"{VMLINUX_BTF} is missing")
    header = Path(directory) / "vmlinux.h"
    with open(header, "w") as out:
        dump = subprocess.run([find_bpftool(), "btf", "dump", "file", str(VMLINUX_BTF),
                               "format", "c"], stdout=out, stderr=subprocess.PIPE, text=True)
    assert dump.returncode == 0, f"bpftool btf dump failed: {dump.stderr}"
    return header


def clang_tracing(stem: str, out_dir: StrPath, header_dir: StrPath, *flags: str,
                  name: Optional[str] = None) -> Path:
    """tests/c/tracing/STEM.c built against ``header_dir``'s vmlinux.h, as
    OUT_DIR/NAME.o (NAME defaults to STEM)."""
    import platform
    arch = TARGET_ARCH.get(platform.machine(), platform.machine())
    return clang_bpf(TRACING_C / f"{stem}.c", Path(out_dir) / f"{name or stem}.o",
                     f"-I{header_dir}", f"-D__TARGET_ARCH_{arch}", *flags)
