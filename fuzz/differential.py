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

from .compile_check import VERIFIER_LIMITS
from .kernel_events import (EVENTS, Child, Event, context_from_probe, frame_out, probe_source,
                            seen_by)

NONDETERMINISTIC = frozenset({"ktime_get_ns", "get_prandom_u32", "get_socket_cookie"})
ERRNO_MAX = 4095
SOCK_FIELDS = ("mark", "priority", "bound_dev_if")


@dataclass
class Tally:
    compared: int = 0
    names: list[str] = field(default_factory=list)    # the programs compared
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

def _init_netns_cookie() -> int:
    """The initial network namespace's cookie, which this process (not the
    child, in a namespace of its own) is in."""
    import socket
    from .kernel_events import SO_NETNS_COOKIE
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        return int.from_bytes(s.getsockopt(socket.SOL_SOCKET, SO_NETNS_COOKIE, 8), "little")


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
                                init_netns_cookie=_init_netns_cookie(),
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
        # Packet hooks run in this process's test runs, cgroup_skb's too.
        mine = hook.attach_target != abi.TARGET_CGROUP or EVENTS[hook.decorator][0].action[0] \
            == "packet"
        known = self.own_fakes if mine else self.child_fakes
        return Fakes(cpus=1, **known)  # type: ignore[arg-type]

    def run(self, coll: Any, name: str, hook: abi.Hook, event: Event) -> tuple[Any, ...]:
        """The event in the kernel with program ``name`` attached: what the
        caller saw."""
        action = event.action
        if action[0] == "packet":
            if not hook.packet:
                return (coll[name].test_run(action[1]).retval,)
            run = coll[name].run_packet(action[1])
            return (run.retval, run.packet)
        if action[0] == "sysctl_write":
            original = self.sysctl_value(action[1])
        link = coll[name].attach(self.cgroup.path)
        try:
            return self.child.ask(action)
        finally:
            link.close()
            if action[0] == "sysctl_write":
                self.child.ask(("sysctl_set", action[1], original))

    def sysctl_value(self, name: str) -> bytes:
        """The sysctl's value before any event (each write is undone)."""
        if name not in self.sysctl_values:
            self.sysctl_values[name] = self.child.ask(("sysctl_value", name))[0]
        return self.sysctl_values[name]

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
            args["packet"] = seen_by(hook, action[1])
        if action[0].startswith("sysctl"):
            name = action[1]
            args.update(sysctl_name=name, current_value=self.sysctl_value(name))
            if action[0] == "sysctl_write":
                args["new_value"] = action[2]
        return args


# ---------------------------------------------------- what the caller sees

def predicted(hook: abi.Hook, event: Event, args: dict[str, Any], result: Any
              ) -> Optional[tuple[Any, ...]]:
    """What the caller of the event's system call sees, given what the hook
    did (docs: shared kernel notes); None where the kernel's own handling
    decides (a setsockopt the program passed on) or a retval the program
    set out of the errno range."""
    action = event.action
    kind = action[0]
    if kind == "packet":
        if hook.packet:
            return (result.verdict, frame_out(hook, result.packet))
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
    if kind == "sysctl_write":
        # A value the program wrote in is the kernel's to parse.
        return (error,) if error or result.new_value is None else None
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


def shown(outcome: tuple[Any, ...], other: tuple[Any, ...]) -> str:
    """An outcome for a message: a packet as its length and its bytes from
    where it first differs from the other side's."""
    parts = []
    for i, value in enumerate(outcome):
        if isinstance(value, (bytes, bytearray)):
            theirs = other[i] if i < len(other) and isinstance(other[i], bytes) else b""
            at = next((n for n, (a, b) in enumerate(zip(value, theirs)) if a != b),
                      min(len(value), len(theirs)))
            value = f"<{len(value)} bytes, from {at}: {bytes(value[at:at + 16]).hex()}>"
        parts.append(str(value))
    return "(" + ", ".join(parts) + ")"


def cpus_total(values: list[Any]) -> Any:
    """A per-CPU value as one: every CPU's added up (a struct's field by
    field), since the kernel's test run may run on any CPU."""
    values = [plain(v) for v in values]
    if values and isinstance(values[0], dict):
        return {k: cpus_total([v[k] for v in values]) for k in values[0]}
    if values and isinstance(values[0], list):
        return [cpus_total(list(column)) for column in zip(*values)]
    return sum(values)


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
                value = cpus_total(value)
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
                value = cpus_total(value)
            items[key] = plain(value)
        out[name] = items
    return out


def _address(text: str) -> int:
    """An IPv4 address as a be32 field holds it (network order, read on x86)."""
    import socket
    return int.from_bytes(socket.inet_aton(text), "little")


# Map contents set on both sides before an example runs, so that its
# lookups find something: a blocked prefix, two backends.
EXAMPLE_MAPS: dict[str, dict[str, dict[Any, Any]]] = {
    "examples/xdp_block_prefixes.py": {"blocked": {
        (24, _address("10.1.2.0")): 0, (8, _address("10.0.0.0")): 5}},
    "examples/xdp_load_balancer.py": {"backends": {0: _address("10.0.0.7"),
                                                   1: _address("10.0.0.8")}},
    "examples/xdp_redirect_ports.py": {"ports": {2: 1}},      # port 7002 to lo
}


def set_maps(program: Program, coll: Any, contents: dict[str, dict[Any, Any]]) -> None:
    for name, items in contents.items():
        sim = program.maps[name]
        for key, value in items.items():
            if isinstance(key, tuple):        # a struct key, its fields in order
                assert sim.key_type is not None
                key = dict(zip((f[0] for f in sim.key_type.fields), key))  # type: ignore
            sim[key] = value
            coll.maps[name][key] = value


def compare(text: str, path: str, kernel: Kernel, tally: Tally,
            maps: Optional[dict[str, dict[Any, Any]]] = None) -> None:
    """Run ``text`` in both places and note every disagreement; ``maps``:
    contents to set in both first."""
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
        if any(words in err.log for words in VERIFIER_LIMITS):
            tally.skip("beyond the verifier's limits")
        else:
            tally.disagreements.append(f"{path}: the kernel refused it: {err}")
        return
    with coll:
        set_maps(program, coll, maps or {})
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
                expected = predicted(hook, event, args, result)
                if expected is not None and plain(expected) != plain(seen):
                    tally.disagreements.append(
                        f"{where}: the kernel gave {shown(seen, expected)}, the interpreter "
                        f"{shown(expected, seen)} (verdict {result.verdict}, wrote "
                        f"{result.written})")
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
    tally.names.append(path)


def examples(kernel: Kernel, tally: Tally) -> None:
    from .programs import REPO_ROOT
    for path in sorted((REPO_ROOT / "examples").glob("*.py")):
        where = f"examples/{path.name}"
        compare(path.read_text(), where, kernel, tally, EXAMPLE_MAPS.get(where))


def generated(kernel: Kernel, tally: Tally, count: int, first_seed: int = 0) -> None:
    """Compare ``count`` generated valid programs (seeds from
    ``first_seed`` on, the odd ones with maps), calling none of the helpers
    left out; a seed whose program cannot be compared is replaced by the
    next."""
    from .choose import RandomChooser
    from .programs import valid_program
    seed, wanted = first_seed, tally.compared + count
    # Only hooks with events can be compared: programs are of those.
    staged = tuple(h for h in abi.HOOKS if h.decorator in EVENTS)
    while tally.compared < wanted and seed < first_seed + 3 * count:
        # Every other program declares maps and calls their methods.
        text = valid_program(RandomChooser(seed), avoid=NONDETERMINISTIC, maps=seed % 2 == 1,
                             hooks=staged)
        compare(text, f"seed{seed}.py", kernel, tally)
        seed += 1
