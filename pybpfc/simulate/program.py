"""A program loaded for simulation: its hooks as callables, its globals and
maps kept between runs, as the kernel keeps them between events."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Optional, Union

from ..compiler.driver import check_source, recursion_room
from ..compiler.errors import CompileError, InternalError, Source
from ..compiler.source import decode_source, read_source
from ..compiler.symbols import CheckedProgram, FuncSym
from ..records import field, record
from . import expressions, kernel_structs, packets, tracing  # noqa: F401  (register expressions, helpers)
from .context import SimulationError, accepted, build_event
from .helpers import Fakes
from .interpreter import Run
from .maps import SimMap
from .memory import decode, initial_bytes, to_bytes
from .trace import Trace


@record(eq=False)
class Result:
    """What one run of a hook did.

    ``verdict`` is the return value (ALLOW 1 / REJECT 0, or the bytes of a
    packet to keep); ``verdict_name`` its name in the hook's table, if it
    has one.  ``written``: the context fields the program wrote, with their
    final values.  ``optval``: the option buffer afterwards (None for hooks
    without one).  ``retval``: the syscall's result as the program left it.
    ``new_value``: a sysctl's value to be written, when the program set it.
    ``bound``: the struct sockaddr a connect hook's bind() bound the socket to.
    ``maps`` and ``globals`` are their contents after the run, decoded;
    ``printed`` the lines print() wrote; ``trace`` the steps, when asked.
    ``packet``: the packet as the program left it (None for hooks without
    one); ``redirect``: where ``redirect()`` sent it (``ifindex``,
    ``ingress``), or None."""
    hook: str
    verdict: int
    verdict_name: Optional[str]
    written: dict[str, Any]
    optval: Optional[bytes]
    retval: int
    new_value: Optional[bytes]
    maps: dict[str, dict[Any, Any]]
    globals: dict[str, Any]
    printed: list[str]
    bound: Optional[bytes] = None
    packet: Optional[bytes] = None
    redirect: Optional[dict[str, Any]] = None
    trace: Optional[Trace] = field(default=None, repr=False)


def no_such(what: str, name: str, known: Any) -> str:
    return f"the program has no {what} '{name}'; it has {', '.join(known) or 'none'}"


class Globals:
    """The program's globals by name, decoded; a test may set them
    (ReadOnly ones included, as user space does before loading)."""

    def __init__(self, program: CheckedProgram):
        self._vars = {g.name: g for g in program.globals}
        self.blocks = {g.name: initial_bytes(g.ty, g.init) for g in program.globals}

    def __getitem__(self, name: str) -> Any:
        var = self._var(name)
        return decode(bytes(self.blocks[name]), var.ty)

    def __setitem__(self, name: str, value: Any) -> None:
        var = self._var(name)
        try:
            self.blocks[name][:] = to_bytes(value, var.ty, f"global '{name}'")
        except ValueError as e:
            raise SimulationError(str(e)) from None

    def __contains__(self, name: object) -> bool:
        return name in self._vars

    def __iter__(self) -> Any:
        return iter(self._vars)

    def contents(self) -> dict[str, Any]:
        return {name: self[name] for name in self._vars}

    def _var(self, name: str) -> Any:
        var = self._vars.get(name)
        if var is None:
            raise SimulationError(no_such("global", name, self._vars))
        return var


class Hook:
    """One hook of a loaded program, called with its context's fields."""

    def __init__(self, program: "Program", fn: FuncSym):
        self.program = program
        self.fn = fn
        assert fn.hook is not None
        self.abi = fn.hook
        self.name = fn.name

    @property
    def arguments(self) -> dict[str, str]:
        """The keyword arguments a run takes, with what each is."""
        return accepted(self.abi)

    def __call__(self, *, trace: bool = False, **context: Any) -> Result:
        return self.program.run(self.name, trace=trace, **context)

    def __repr__(self) -> str:
        return f"<hook {self.name} @{self.abi.decorator}>"


class Program:
    """A checked program with the state its hooks share."""

    def __init__(self, checked: CheckedProgram, fakes: Optional[Fakes] = None):
        self.checked = checked
        self.fakes = fakes if fakes is not None else Fakes()
        self.globals = Globals(checked)
        self.maps = {m.name: SimMap(m, self.fakes.cpus) for m in checked.maps}
        self.hooks = {f.name: Hook(self, f) for f in checked.hooks}
        self.socket_options: dict[tuple[int, int, int], bytes] = {}

    def __getattr__(self, name: str) -> Hook:
        hooks = self.__dict__.get("hooks", {})
        if name in hooks:
            return hooks[name]
        raise AttributeError(no_such("hook", name, hooks))

    def hook(self, name: str) -> Hook:
        found = self.hooks.get(name)
        if found is None:
            raise SimulationError(no_such("hook", name, self.hooks))
        return found

    def run(self, name: str, *, trace: bool = False, **context: Any) -> Result:
        """Run hook ``name`` on the event ``context`` describes."""
        hook = self.hook(name)
        abi_hook = hook.abi
        event = build_event(abi_hook, name, context)
        tracer = Trace(self.checked.source) if trace else None
        run = Run(self, event, self.fakes, tracer)
        try:
            with recursion_room():     # the run walks the tree as deep as it nests
                verdict = run.hook(hook.fn)
        except InternalError as e:
            raise e.located(self.checked.source)
        # TC_ACT_UNSPEC is -1: the kernel sees the 32 bits.
        names = [n for n, v in abi_hook.returns.values if v & 0xFFFFFFFF == verdict]
        return Result(
            hook=name, verdict=verdict, verdict_name=names[0] if names else None,
            written=dict(event.written),
            optval=bytes(event.window) if event.window is not None else None,
            retval=event.get_retval(),
            new_value=event.new_value if run.new_value_set else None,
            maps={m: sim.contents() for m, sim in self.maps.items()},
            globals=self.globals.contents(), printed=run.printed, bound=run.bound,
            packet=event.packet if event.packet_buffer is not None else None,
            redirect=event.redirect, trace=tracer)

    def close_socket(self, socket: int) -> None:
        """The socket is gone: its socket storage with it."""
        for sim in self.maps.values():
            if sim.kind.key == "socket":
                sim.delete_storage(socket)


def load_program(program: Union[str, Path], *, text: Optional[str] = None,
                 fakes: Optional[Fakes] = None) -> Program:
    """Read and check the program at ``program`` (or the source ``text``,
    reported under that name) for simulation; a mistake in it is a
    CompileError, as ``pybpfc check`` reports it.  The module is never
    imported or executed."""
    if text is not None:
        source: Source = decode_source(text.encode(), str(program))
    else:
        source = read_source(Path(program))
    try:
        checked = check_source(source)
    except CompileError as e:
        raise e.located(source)
    return Program(checked, fakes)
