"""``pybpfc simulate PROG.py HOOK [--ctx FIELD=VALUE ...] [--trace]``: run
one hook in pybpfc's interpreter (``pybpfc.simulate``), without a kernel
or any privilege, and print its verdict and what it changed; with
``--trace``, each line it executed with the values it produced."""
from __future__ import annotations

import argparse
import ast
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from pybpfc.cli_errors import EXIT_OK, UserError
from pybpfc.cli_packets import add_packet_options, packet_input

if TYPE_CHECKING:
    from pybpfc.compiler.errors import Source


def add_command(commands: Any, parents: list[argparse.ArgumentParser],
                read_source: Callable[[Path], "Source"]) -> None:
    simulate = commands.add_parser(
        "simulate", parents=parents, help="run a hook in pybpfc's interpreter, without a kernel",
        description="Run one hook of a program in pybpfc's interpreter, with the kernel's "
                    "semantics but no kernel, as any user.  Prints the verdict, the context "
                    "fields the hook wrote, and the globals and maps it changed.")
    simulate.add_argument("program", metavar="PROGRAM.py", help="the program")
    simulate.add_argument("hook", metavar="HOOK", help="the hook function to run")
    simulate.add_argument("--ctx", action="append", default=[], metavar="FIELD=VALUE",
                          help="a context field or input (repeatable); VALUE is a Python "
                               "literal (7, 0x10, -1, b'\\x01', [1, 2], {'mark': 1}) or "
                               "plain text (sysctl_name=net/ipv4/ip_forward)")
    simulate.add_argument("--trace", action="store_true",
                          help="print each line executed, with the values it produced")
    simulate.add_argument("--fake", action="append", default=[], metavar="NAME=VALUE",
                          help="what a helper reports about the world (pid, tgid, uid, comm, "
                               "time_ns, cpu, ...; docs/simulate.md)")
    simulate.add_argument("--memory", action="append", default=[], metavar="ADDRESS=VALUE",
                          help="bytes (or text, NUL-terminated) at an address, for the probe "
                               "helpers of tracing hooks: --memory 0x7000=HOME")
    add_packet_options(simulate)
    simulate.set_defaults(run=lambda args: _simulate(args, read_source))


def context_value(text: str) -> Any:
    """A --ctx value: a Python literal, or else the text itself."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text


def parse_context(items: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UserError(f"--ctx {item!r}: expected FIELD=VALUE")
        out[name.strip()] = context_value(value)
    return out


def _simulate(args: argparse.Namespace, read_source: Callable[[Path], "Source"]) -> int:
    from pybpfc.compiler.driver import check_source
    from pybpfc.compiler.errors import CompileError
    from pybpfc.simulate import Program, SimulationError
    from pybpfc.simulate.trace import show

    source = read_source(Path(args.program))
    fakes = _fakes(args.fake, args.memory)
    try:
        program = Program(check_source(source), fakes)
    except CompileError as e:
        raise UserError(e.located(source).render()) from e
    context = parse_context(args.ctx)
    frame = packet_input(args, "simulate")
    if frame is not None:
        context["packet"] = _packet_seen(program, args.hook, frame, context)
    before_globals = program.globals.contents()
    before_maps = {name: m.contents() for name, m in program.maps.items()}
    try:
        result = program.run(args.hook, trace=args.trace, **context)
    except SimulationError as e:
        raise UserError(f"pybpfc simulate: {e}") from e
    if result.trace is not None:
        for line in result.trace.render():
            print(line)
        print()
    name = f" ({result.verdict_name})" if result.verdict_name else ""
    print(f"{result.hook}: returned {result.verdict}{name}")
    for field, value in result.written.items():
        print(f"  ctx.{field} = {value}")
    if result.optval is not None and result.optval != _bytes(context.get("optval", b"")):
        print(f"  ctx.optval = {show('', result.optval)}")
    if result.new_value is not None:
        print(f"  new value = {show('', result.new_value)}")
    if result.bound is not None:
        print(f"  bound to {show('', result.bound)}")
    if result.packet is not None:
        given = _bytes(context.get("packet", b""))
        change = "unchanged" if result.packet == given else "changed"
        print(f"  packet out: {len(result.packet)} bytes, {change}")
        if result.packet != given:
            print(f"    {result.packet.hex(' ')}")
    if result.redirect is not None:
        way = "ingress" if result.redirect["ingress"] else "egress"
        print(f"  redirected to ifindex {result.redirect['ifindex']} ({way})")
    for glob, value in result.globals.items():
        if value != before_globals[glob]:
            print(f"  {glob} = {value!r}")
    for map_name, contents in result.maps.items():
        if contents != before_maps[map_name]:
            print(f"  {map_name}: {_map_text(contents)}")
    for line in result.printed:
        print(f"  printed: {line}")
    return EXIT_OK


def _packet_seen(program: Any, hook_name: str, frame: bytes, context: dict[str, Any]) -> bytes:
    """What the hook sees of an Ethernet frame given with --packet*: all of
    it (XDP, tc), or, as in the kernel's test run, what follows the
    Ethernet header (cgroup_skb, socket filters)."""
    from pybpfc import abi
    from pybpfc.abi.headers import PACKET_CONSTANTS
    from pybpfc.simulate import SimulationError
    try:
        hook = program.hook(hook_name).abi
    except SimulationError as e:
        raise UserError(f"pybpfc simulate: {e}") from e
    if "packet" in context:
        raise UserError("pybpfc simulate: give the packet once: --packet* or --ctx packet=")
    if hook.kind.prog_type not in abi.kernel.TEST_RUN_FROM_IP_HEADER:
        return frame
    eth = PACKET_CONSTANTS["ETH_HLEN"]
    if len(frame) < eth:
        raise UserError(f"pybpfc simulate: the packet is {len(frame)} bytes; it is an Ethernet "
                        f"frame, starting with a {eth}-byte header")
    return frame[eth:]


def _fakes(items: list[str], memory: list[str]) -> Any:
    """Fakes from --fake NAME=VALUE and --memory ADDRESS=VALUE."""
    from dataclasses import fields

    from pybpfc.simulate import Fakes
    known = {f.name for f in fields(Fakes) if not f.name.startswith("_")} - {"memory"}
    fakes = Fakes()
    for name, value in parse_context(items).items():
        if name not in known:
            raise UserError(f"pybpfc simulate: --fake {name}: no such fake; the fakes are "
                            f"{', '.join(sorted(known))}")
        if name == "comm":
            value = _bytes(value)
        elif not isinstance(value, int) and name not in ("random", "kernel_stack", "user_stack"):
            raise UserError(f"pybpfc simulate: --fake {name}: an integer, not {value!r}")
        setattr(fakes, name, value)
    for address, value in parse_context(memory).items():
        try:
            start = int(address, 0)
        except ValueError:
            raise UserError(f"pybpfc simulate: --memory {address}: an address (0x7000), "
                            "not that") from None
        data = value if isinstance(value, (bytes, bytearray)) else str(value).encode() + b"\0"
        fakes.memory[start] = bytes(data)
    return fakes


def _bytes(value: Any) -> bytes:
    return value.encode() if isinstance(value, str) else bytes(value) \
        if isinstance(value, (bytes, bytearray)) else b""


def _map_text(contents: dict[Any, Any]) -> str:
    from pybpfc.simulate.trace import show
    items = [f"{k!r}: {show('', v)}" for k, v in contents.items()]
    return "{" + ", ".join(items) + "}"
