"""The differential test: a program run in pybpfc's interpreter
(``pybpfc.simulate``, the language's reference semantics) and in the
kernel must give the same answers.  A disagreement is a bug in the
compiler or in the interpreter, even when nothing crashed.

For each hook of a program, each of its events (``kernel_events.EVENTS``)
runs in the kernel and in the interpreter with the context the kernel
gave (measured by a probe) and fakes holding the kernel's ids.  Compared:
the outcome the caller sees (the verdict as the system call's result, the
socket fields a sock_create hook wrote, the option a getsockopt hook
returned, the bytes a socket filter keeps), and after every event the
program's globals and maps.

Programs calling helpers whose values the kernel makes up each time
(``ktime_get_ns``, ``get_prandom_u32``, ``get_socket_cookie``) are left
out, as are hooks with no events here yet.
"""
from __future__ import annotations

import errno
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from pybpfc import abi
from pybpfc.compiler.driver import compile_source
from pybpfc.compiler.errors import Source
from pybpfc.compiler.types import ArrayType
from pybpfc.simulate import Fakes, Program, SimulationError
from pybpfc.simulate.program import load_program

from .kernel_events import (EVENTS, Child, Event, context_from_probe, probe_source,
                            seen_by_filter)

NONDETERMINISTIC = frozenset({"ktime_get_ns", "get_prandom_u32", "get_socket_cookie"})
ERRNO_MAX = 4095
SOCK_FIELDS = ("mark", "priority", "bound_dev_if")


@dataclass
class Tally:
    compared: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    disagreements: list[str] = field(default_factory=list)

    def skip(self, why: str) -> None:
        self.skipped[why] = self.skipped.get(why, 0) + 1


def plain(value: Any) -> Any:
    """A decoded value with one spelling for both sides: bytes as a list
    of ints, structs as dicts."""
    if isinstance(value, (bytes, bytearray)):
        return list(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, bool):
        return int(value)
    return value


def left_out(program: Program) -> Optional[str]:
    """Why a program cannot be compared, or None."""
    for fn in program.checked.functions:
        for call in fn.kernel_calls:
            helper = getattr(call.resolved, "helper", None)
            if helper is not None and helper.name in NONDETERMINISTIC:
                return f"calls {helper.name}"
    for fn in program.checked.hooks:
        assert fn.hook is not None
        if fn.hook.decorator not in EVENTS:
            return f"no events for @{fn.hook.decorator}"
    return None


# --------------------------------------------------------------- kernel

class Kernel:
    """The kernel side: one temporary cgroup with a child in it, the
    probes' measurements and the ids the fakes must hold."""

    def __init__(self) -> None:
        from pybpfc.runtime.cgroup import TemporaryCgroup
        self._cgroup = TemporaryCgroup()
        self.cgroup = self._cgroup.__enter__()
        try:
            self.child = Child(Path(self.cgroup.path))
        except BaseException:
            self._cgroup.__exit__(None, None, None)
            raise
        pid, comm, netns = self.child.ask(("facts",))
        self.child_fakes = dict(pid=pid, tgid=pid, uid=0, gid=0, comm=comm, netns_cookie=netns,
                                cgroup_id=os.stat(self.cgroup.path).st_ino)
        # A test run's socket is made for it, owned by uid 0 (sock_init_data).
        self.own_fakes = dict(pid=os.getpid(), tgid=os.getpid(), uid=os.getuid(),
                              gid=os.getgid(), comm=Path("/proc/self/comm").read_bytes().strip(),
                              socket_uid=0)
        self.contexts: dict[tuple[str, str], dict[str, Any]] = {}
        self.sysctl_values: dict[str, bytes] = {}

    def close(self) -> None:
        try:
            self.child.close()
        finally:
            self._cgroup.__exit__(None, None, None)

    def __enter__(self) -> "Kernel":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def fakes_for(self, hook: abi.Hook) -> Fakes:
        known = self.own_fakes if hook.attach_target != abi.TARGET_CGROUP else self.child_fakes
        return Fakes(cpus=1, **known)  # type: ignore[arg-type]

    def run(self, coll: Any, name: str, hook: abi.Hook, event: Event) -> tuple[Any, ...]:
        """The event in the kernel with program ``name`` attached: what the
        caller saw."""
        if event.action[0] == "packet":
            return (coll[name].test_run(event.action[1]).retval,)
        link = coll[name].attach(self.cgroup.path)
        try:
            return self.child.ask(event.action)
        finally:
            link.close()

    def context(self, hook: abi.Hook, event: Event) -> dict[str, Any]:
        """The interpreter's arguments for ``event``: the context the kernel
        gives ``hook`` (measured by its probe) and what else the event holds."""
        key = (hook.decorator, event.name)
        if key not in self.contexts:
            from pybpfc.runtime.collection import load
            elf = compile_source(Source("probe.py", probe_source(hook))).elf
            with load(elf) as coll:
                self.run(coll, "probe", hook, event)
                values = {n: coll.globals[n] for n in coll.globals.names()}
            self.contexts[key] = context_from_probe(hook, values)
        args = dict(self.contexts[key])
        action = event.action
        if action[0] == "packet":
            args["packet"] = seen_by_filter(action[1])
        if action[0].startswith("sysctl"):
            name = action[1]
            if name not in self.sysctl_values:
                self.sysctl_values[name] = self.child.ask(("sysctl_value", name))[0]
            args.update(sysctl_name=name, current_value=self.sysctl_values[name])
        return args


# ---------------------------------------------------- what the caller sees

def predicted(event: Event, args: dict[str, Any], result: Any) -> Optional[tuple[Any, ...]]:
    """What the caller of the event's system call sees, given what the hook
    did (docs: shared kernel notes); None where the kernel's own handling
    decides (a setsockopt the program passed on) or a retval the program
    set out of the errno range."""
    action = event.action
    kind = action[0]
    if kind == "packet":
        return (result.verdict,)
    retval = result.retval
    if retval > 0 or retval < -ERRNO_MAX:
        return None
    rejected = result.verdict == 0
    error = -retval if retval < 0 else (errno.EPERM if rejected else 0)
    final = {**args, **result.written}
    if kind == "release":
        return (0, None)
    if kind == "sysctl_read":
        return (error,)
    if error:
        return (error, None)
    if kind == "socket":
        return (0, {f: final.get(f, 0) for f in SOCK_FIELDS})
    if kind == "bind":
        return (0, None)
    optlen = final.get("optlen", 0)
    if kind == "setsockopt":
        if optlen == -1:
            return (0, None)
        if optlen < -1 or optlen > len(args.get("optval", b"")):
            return (errno.EFAULT, None)
        return None
    assert kind == "getsockopt", kind
    if optlen < 0 or optlen > action[5]:
        return (errno.EFAULT, None)
    optval = result.optval or b""
    return (0, optval[:optlen] if optlen else b"")


def kernel_maps(coll: Any) -> dict[str, Any]:
    """The maps a test can list, decoded (per-CPU values summed)."""
    out: dict[str, Any] = {}
    for name, m in coll.maps.items():
        kind = abi.kernel.MAP_TYPES.get
        if m.spec.map_type in (kind("BPF_MAP_TYPE_SK_STORAGE"), kind("BPF_MAP_TYPE_RINGBUF")):
            continue
        items = {}
        for key, value in m.items():
            if m.spec.map_type == kind("BPF_MAP_TYPE_CGROUP_STORAGE"):
                key = "cgroup"
            elif isinstance(key, dict):
                key = tuple(plain(v) if not isinstance(v, list) else tuple(v)
                            for v in key.values())
            if isinstance(value, list) and m.spec.map_type in (
                    kind("BPF_MAP_TYPE_PERCPU_HASH"), kind("BPF_MAP_TYPE_PERCPU_ARRAY")):
                value = sum(value)
            items[key] = plain(value)
        out[name] = items
    return out


def simulated_globals(program: Program) -> dict[str, Any]:
    """The globals as the runtime decodes them: an array of 1-byte
    integers is bytes (unsigned), whatever its element's sign."""
    out = {}
    for var in program.checked.globals:
        value = plain(program.globals[var.name])
        ty = var.ty
        if isinstance(ty, ArrayType) and ty.elem.size == 1:
            value = [v & 0xFF for v in value]
        out[var.name] = value
    return out


def simulated_maps(program: Program) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, sim in program.maps.items():
        if sim.kind.key in ("socket", "none"):
            continue
        items = {}
        for key, value in sim.contents().items():
            if sim.kind.key == "cgroup":
                key = "cgroup"
            if sim.per_cpu:
                value = sum(value)
            items[key] = plain(value)
        out[name] = items
    return out


def compare(text: str, path: str, kernel: Kernel, tally: Tally) -> None:
    """Run ``text`` in both places and note every disagreement."""
    from pybpfc.runtime.collection import load
    try:
        program = load_program(path, text=text)
    except Exception as err:         # noqa: BLE001 - a generator's program that does not check
        tally.skip(f"does not check: {type(err).__name__}")
        return
    why = left_out(program)
    if why is not None:
        tally.skip(why)
        return
    elf = compile_source(Source(path, text)).elf
    from pybpfc.runtime.errors import VerifierError
    try:
        coll = load(elf)
    except VerifierError as err:
        tally.skip("the verifier refuses it" if "too complex" in err.log
                   or "too large" in err.log else "REFUSED by the verifier")
        if "too complex" not in err.log and "too large" not in err.log:
            tally.disagreements.append(f"{path}: the kernel refused it: {err}")
        return
    with coll:
        socket = 100
        for fn in program.checked.hooks:
            hook = fn.hook
            assert hook is not None
            for event in EVENTS[hook.decorator]:
                args = kernel.context(hook, event)
                program.fakes = kernel.fakes_for(hook)
                socket += 1
                if "socket" in program.hook(fn.name).arguments:
                    args["socket"] = socket
                where = f"{path}: {fn.name} on {event.name}"
                seen = kernel.run(coll, fn.name, hook, event)
                try:
                    result = program.run(fn.name, **args)
                except SimulationError as err:
                    tally.disagreements.append(f"{where}: the interpreter stopped: {err}")
                    return
                expected = predicted(event, args, result)
                if expected is not None and plain(expected) != plain(seen):
                    tally.disagreements.append(
                        f"{where}: the kernel gave {seen}, the interpreter {expected} "
                        f"(verdict {result.verdict}, wrote {result.written})")
                kernel_globals = {n: plain(coll.globals[n]) for n in coll.globals.names()}
                simulated = simulated_globals(program)
                if kernel_globals != simulated:
                    differ = sorted(n for n in simulated if simulated[n] != kernel_globals.get(n))
                    tally.disagreements.append(
                        f"{where}: globals differ: " + "; ".join(
                            f"{n}: kernel {kernel_globals.get(n)}, interpreter {simulated[n]}"
                            for n in differ))
                    return
                if kernel_maps(coll) != simulated_maps(program):
                    tally.disagreements.append(f"{where}: maps differ: kernel "
                                               f"{kernel_maps(coll)}, interpreter "
                                               f"{simulated_maps(program)}")
                    return
    tally.compared += 1


def examples(kernel: Kernel, tally: Tally) -> None:
    from .programs import REPO_ROOT
    for path in sorted((REPO_ROOT / "examples").glob("*.py")):
        compare(path.read_text(), f"examples/{path.name}", kernel, tally)


def generated(kernel: Kernel, tally: Tally, count: int, first_seed: int = 0) -> None:
    """Compare ``count`` generated valid programs (seeds from
    ``first_seed`` on), calling none of the helpers left out; a seed whose
    program cannot be compared is replaced by the next."""
    from .choose import RandomChooser
    from .programs import valid_program
    seed, wanted = first_seed, tally.compared + count
    while tally.compared < wanted and seed < first_seed + 3 * count:
        compare(valid_program(RandomChooser(seed), avoid=NONDETERMINISTIC), f"seed{seed}.py",
                kernel, tally)
        seed += 1
