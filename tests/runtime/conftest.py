"""Fixtures of the tracing runtime's tests: tests/c/tracing/*.c built once
per session against the running kernel's vmlinux.h, and target.c's
program run as a child the tests command through its stdin."""
from __future__ import annotations

import os
import pickle
import signal
import subprocess
import traceback
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import pytest

from tests.support import TRACING_C, clang_tracing, find_tool, require_kernel_feature, \
    vmlinux_header

BuildTracing = Callable[..., Path]


@pytest.fixture(scope="session")
def build_tracing(tmp_path_factory: pytest.TempPathFactory) -> BuildTracing:
    """``build_tracing(STEM, *clang flags, name=None)``: the object of
    tests/c/tracing/STEM.c, built once per session and set of flags."""
    out_dir = tmp_path_factory.mktemp("tracing")
    header_dir: list[Path] = []
    built: dict[tuple[str, tuple[str, ...]], Path] = {}

    def build(stem: str, *flags: str, name: Optional[str] = None) -> Path:
        key = (stem, flags)
        if key not in built:
            if not header_dir:
                header_dir.append(vmlinux_header(out_dir).parent)
            built[key] = clang_tracing(stem, out_dir, header_dir[0], *flags,
                                       name=name or f"{stem}-{len(built)}")
        return built[key]
    return build


@pytest.fixture(scope="session")
def target_binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/c/tracing/target.c built with gcc, frame pointers kept."""
    gcc = find_tool("gcc") or find_tool("cc")
    require_kernel_feature("gcc", gcc is not None, "no gcc or cc to build the uprobe target")
    assert gcc is not None
    binary = tmp_path_factory.mktemp("target") / "target"
    build = subprocess.run([gcc, "-O2", "-g", "-fno-omit-frame-pointer", "-o", str(binary),
                            str(TRACING_C / "target.c")], capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    return binary


class Target:
    """target.c running as a child of the test; ``command`` sends it one
    line and returns what it printed up to its "done"."""

    def __init__(self, binary: Path):
        self.process = subprocess.Popen([str(binary)], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True)
        assert self.process.stdin is not None and self.process.stdout is not None
        self._in, self._out = self.process.stdin, self.process.stdout
        first = self._out.readline().split()
        assert first[:1] == ["pid"], first
        self.pid = int(first[1])
        assert self.pid == self.process.pid

    def command(self, line: str) -> list[str]:
        self._in.write(line + "\n")
        self._in.flush()
        printed = []
        while (text := self._out.readline()) not in ("done\n", ""):
            printed.append(text.rstrip("\n"))
        return printed

    def quit(self) -> int:
        if self.process.poll() is None:
            self._in.write("quit\n")
            self._in.flush()
        return self.process.wait(timeout=10)


@pytest.fixture
def target(target_binary: Path) -> Iterator[Target]:
    child = Target(target_binary)
    try:
        yield child
    finally:
        if child.process.poll() is None:
            child.process.kill()
        child.process.wait()
        child._in.close()
        child._out.close()


class Forked:
    """A forked child that waits until told to go, then runs ``action`` and
    exits; what ``action`` returns comes back from :meth:`run` (its
    exception, as an AssertionError).  Its pid is known before it acts, so
    a program can be told to watch it first."""

    def __init__(self, action: Callable[[], Any]):
        go_r, go_w = os.pipe()
        result_r, result_w = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            os.close(go_w)
            os.close(result_r)
            os.read(go_r, 1)
            try:
                outcome = ("ok", action())
            except BaseException as exc:     # reported to the parent
                outcome = ("error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}")
            with os.fdopen(result_w, "wb") as pipe:
                pipe.write(pickle.dumps(outcome))
            os._exit(0)
        os.close(go_r)
        os.close(result_w)
        self._go, self._result = go_w, result_r
        self._waited = False

    def run(self) -> Any:
        """Let the child act; wait for it; its action's result."""
        os.write(self._go, b"x")
        os.close(self._go)
        with os.fdopen(self._result, "rb") as pipe:
            data = pipe.read()
        _, status = os.waitpid(self.pid, 0)
        self._waited = True
        if not data:
            return os.waitstatus_to_exitcode(status)     # it exec'd: its exit code
        kind, value = pickle.loads(data)
        if kind == "error":
            raise AssertionError(f"child {self.pid} failed: {value}")
        return value

    def __enter__(self) -> "Forked":
        return self

    def __exit__(self, *exc: object) -> None:
        """A child never told to go (the test failed first) is killed."""
        if not self._waited:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
            self._waited = True
            for fd in (self._go, self._result):
                try:
                    os.close(fd)
                except OSError:
                    pass
