"""pybpfc in Jupyter: ``%load_ext pybpfc.jupyter``, then a cell that starts
with ``%%pybpfc`` holds a program.  (The extension is this module, not the
``pybpfc`` package: the package every program imports imports no compiler.)

    %%pybpfc [--name NAME] [--set N=V ...] [--socket udp:PORT] [-- CMD ARGS...]

compiles the cell (a mistake shows as on the command line, with its caret),
loads the object, attaches its programs to a temporary cgroup of their own
(socket filters to the ``--socket``), and then:

- with ``-- CMD``: runs CMD in that cgroup, shows what the programs print
  and put in ring buffers as it comes, shows the maps as tables and the
  histograms as bar charts, and detaches: attached for the cell's duration;
- without: keeps them attached and puts a handle in the notebook's
  namespace (``bpf``, or ``--name``): ``bpf.run([...])`` runs a command in
  the cgroup the same way, ``bpf.maps()`` shows the tables again,
  ``bpf.coll`` is the runtime's collection, and ``bpf.detach()`` (or
  ``%pybpfc_detach``, which detaches every handle) removes it all.

Running the cell again detaches what its handle held first.  Everything is
removed when the kernel process exits, too.
"""
from __future__ import annotations

import argparse
import atexit
import contextlib
import html
import os
import shlex
import sys
import threading
from typing import Any, Iterator, NoReturn, Optional, Sequence

from pybpfc.runtime.histogram import Log2Histogram

_attached: dict[str, "Attached"] = {}


class Attached:
    """A program loaded and attached from a cell; see the module's notes."""

    def __init__(self, name: str, source: str, settings: Sequence[str],
                 socket_spec: Optional[str]):
        from pybpfc.cli_runtime import _attach_all
        from pybpfc.compiler.driver import compile_source
        from pybpfc.runtime.collection import load
        from pybpfc.runtime.command import CommandCgroup
        from pybpfc.runtime.elf import read_object
        from pybpfc.runtime.run_socket import FilteredSocket
        from pybpfc.runtime.settings import apply_settings
        self.name = name
        spec = read_object(compile_source(cell_source(name, source)).elf)
        spec.path = f"{name}.o"
        apply_settings(spec, settings)
        self.cgroup: Any = None
        self.coll: Any = None
        self.socket: Any = None
        self.links: list[Any] = []
        try:
            self.cgroup = CommandCgroup().__enter__()
            self.coll = load(spec)
            if socket_spec is not None:
                self.socket = FilteredSocket(socket_spec)
            self.links = _attach_all(self.coll, self.cgroup.path, self.socket)
        except BaseException:
            self.detach()
            raise

    def describe(self) -> str:
        where = [str(self.cgroup.path)] + ([f"socket {self.socket.name}"]
                                           if self.socket is not None else [])
        names = ", ".join(link.program_name for link in self.links) or "nothing"
        return f"attached {names} to {' and '.join(where)}"

    def run(self, command: Sequence[str]) -> int:
        """Run ``command`` in the cgroup, showing the programs' output as
        it comes; its exit status."""
        from pybpfc.runtime.live import shown_live
        from pybpfc.runtime.run_socket import ENVIRONMENT
        if self.coll is None:
            raise RuntimeError(f"{self.name}: detached")
        if not command:
            raise ValueError(f"{self.name}.run: give the command, e.g. [\"python3\", \"-c\", ...]")
        if self.socket is not None:
            os.environ[ENVIRONMENT] = self.socket.address
        sources = [(self.socket.name, self.socket)] if self.socket is not None else []
        with shown_live(self.coll, out=sys.stdout, notes=sys.stderr, sources=sources), \
                _command_output_shown():
            status: int = self.cgroup.run(list(command))
        print(f"{command[0]} exited with status {status}")
        return status

    def maps(self) -> "MapTables":
        """The maps, globals and histograms now, shown as tables and charts."""
        from pybpfc.runtime.live import histograms
        if self.coll is None:
            raise RuntimeError(f"{self.name}: detached")
        charts = histograms(self.coll)
        tables: list[tuple[str, list[tuple[str, str]]]] = []
        for name, m in self.coll.maps.items():
            if name not in charts and m.unlisted_reason is None:
                tables.append((f"map {name}", _rows(m.items())))
        globals_ = list(self.coll.globals.items())
        if globals_:
            tables.append(("globals", _rows(globals_)))
        return MapTables(tables, charts)

    def detach(self) -> None:
        """Detach the programs, close everything, remove the cgroup."""
        from pybpfc.cli_runtime import _close_all
        try:
            _close_all(self.links)
        finally:
            self.links = []
            for part in ("socket", "coll"):
                thing = getattr(self, part)
                setattr(self, part, None)
                if thing is not None:
                    thing.close()
            cgroup, self.cgroup = self.cgroup, None
            if cgroup is not None:
                cgroup.__exit__(None, None, None)
            if _attached.get(self.name) is self:
                del _attached[self.name]

    def __repr__(self) -> str:
        state = self.describe() if self.coll is not None else "detached"
        return f"<pybpfc {self.name}: {state}>"


@contextlib.contextmanager
def _command_output_shown() -> Iterator[None]:
    """While the block runs, what is written to file descriptors 1 and 2
    (by a command the block runs) goes to ``sys.stdout`` and ``sys.stderr``:
    in a notebook those are the cell's output, and the descriptors are not."""
    threads, saved = [], []
    try:
        for fd, stream in ((1, sys.stdout), (2, sys.stderr)):
            stream.flush()
            read_end, write_end = os.pipe()
            saved.append((fd, os.dup(fd)))
            os.dup2(write_end, fd)
            os.close(write_end)
            thread = threading.Thread(target=_copy, args=(read_end, stream), daemon=True)
            thread.start()
            threads.append(thread)
        yield
    finally:
        for fd, copy in saved:       # the pipes' last writers close: the threads end
            os.dup2(copy, fd)
            os.close(copy)
        for thread in threads:
            thread.join()


def _copy(read_end: int, stream: Any) -> None:
    with os.fdopen(read_end, "rb", buffering=0) as pipe:
        while chunk := pipe.read(65536):
            stream.write(chunk.decode(errors="replace"))
            stream.flush()


def cell_source(name: str, cell: str) -> Any:
    """The cell as a program, numbered as the notebook shows it (line 1 is
    the ``%%pybpfc`` line, which IPython leaves out of ``cell``)."""
    from pybpfc.compiler.errors import Source
    return Source(f"<cell {name}>", "\n" + cell)


def _rows(items: Any) -> list[tuple[str, str]]:
    from pybpfc.runtime.live import format_value
    return [(format_value(key), format_value(value)) for key, value in items]


class MapTables:
    """Maps and globals as tables, histograms as bar charts: HTML in a
    notebook, text elsewhere."""

    def __init__(self, tables: list[tuple[str, list[tuple[str, str]]]],
                 charts: dict[str, Log2Histogram]):
        self.tables = tables
        self.charts = charts

    def __repr__(self) -> str:
        parts = []
        for title, rows in self.tables:
            parts.append("\n".join([title] + [f"  {k}: {v}" for k, v in rows]))
        for name, histogram in self.charts.items():
            parts.append(f"histogram {name} ({histogram.total} values)\n"
                         + histogram.render().rstrip("\n"))
        return "\n".join(parts)

    def _repr_html_(self) -> str:
        out = []
        for title, rows in self.tables:
            body = "".join(f"<tr><td>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>"
                           for k, v in rows)
            out.append(f"<table><caption>{html.escape(title)}</caption>"
                       f"<tr><th>key</th><th>value</th></tr>{body}</table>")
        for name, histogram in self.charts.items():
            out.append(_bar_chart(name, histogram))
        return "\n".join(out)


def _bar_chart(name: str, histogram: Log2Histogram, width: int = 300) -> str:
    """A histogram as an SVG of horizontal bars, a row per bucket."""
    rows = list(histogram.rows())
    peak = max((count for _, count in rows), default=0) or 1
    bars = []
    for i, (label, count) in enumerate(rows):
        y = 20 * i
        bars.append(f'<text x="0" y="{y + 14}" font-size="12">{html.escape(label)}</text>'
                    f'<rect x="110" y="{y + 3}" height="14" width="{count * width // peak}" '
                    f'fill="steelblue"/>'
                    f'<text x="{115 + width}" y="{y + 14}" font-size="12">{count}</text>')
    return (f'<figure><figcaption>histogram {html.escape(name)} ({histogram.total} '
            f'values)</figcaption><svg width="{170 + width}" height="{20 * len(rows)}">'
            + "".join(bars) + "</svg></figure>")


# ------------------------------------------------------------------ magics


def _parse_line(line: str) -> tuple[str, list[str], Optional[str], list[str]]:
    """``--name N --set A=B --socket S -- CMD...`` of the magic's line."""
    words = shlex.split(line)
    command: list[str] = []
    if "--" in words:
        at = words.index("--")
        words, command = words[:at], words[at + 1:]
    parser = _LineParser(prog="%%pybpfc", add_help=False)
    parser.add_argument("--name", default="bpf")
    parser.add_argument("--set", action="append", default=[], dest="settings")
    parser.add_argument("--socket")
    args = parser.parse_args(words)
    if not args.name.isidentifier():
        raise _LineError(f"%%pybpfc: --name {args.name}: not a Python name")
    return args.name, args.settings, args.socket, command


class _LineError(Exception):
    pass


class _LineParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _LineError(f"%%pybpfc: {message}")


def pybpfc_cell(line: str, cell: str, namespace: Optional[dict[str, Any]] = None) -> Any:
    """The cell magic: see the module's notes."""
    from pybpfc.compiler.errors import CompileError
    from pybpfc.runtime.errors import BpfError
    try:
        name, settings, socket_spec, command = _parse_line(line)
    except _LineError as error:
        print(error, file=sys.stderr)
        return None
    if name in _attached:
        _attached[name].detach()
    try:
        attached = Attached(name, cell, settings, socket_spec)
    except CompileError as error:
        print(error.located(cell_source(name, cell)).render(), file=sys.stderr)
        return None
    except BpfError as error:
        print(f"%%pybpfc: error: {error}", file=sys.stderr)
        return None
    print(f"pybpfc: {attached.describe()}")
    if not command:
        _attached[name] = attached
        if namespace is not None:
            namespace[name] = attached
        return None
    try:
        attached.run(command)
        return attached.maps()
    finally:
        attached.detach()


def detach_all(line: str = "", quiet: bool = False) -> None:
    """``%pybpfc_detach``: detach every handle the cells left attached."""
    for attached in list(_attached.values()):
        attached.detach()
        if not quiet:
            print(f"pybpfc: detached {attached.name}")


atexit.register(detach_all, quiet=True)


def load_ipython_extension(ipython: Any) -> None:
    def cell_magic(line: str, cell: str) -> Any:
        return pybpfc_cell(line, cell, ipython.user_ns)
    ipython.register_magic_function(cell_magic, "cell", "pybpfc")
    ipython.register_magic_function(detach_all, "line", "pybpfc_detach")
