"""The packet programs' command: ``test-run`` runs one program of an object
on a packet given in hex or in a file, in the kernel, without a network,
and says what it returned and what became of the packet; and the options
with which ``run`` attaches XDP and tc programs to an interface for a
command's duration (``--dev IFACE``, ``--xdp-mode``, ``--tc-direction``,
``--tc-via``)."""
from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

from pybpfc import abi
from pybpfc.cli_errors import EXIT_OK, UserError

ObjectBytes = Callable[[str], tuple[bytes, str]]
Command = Callable[[argparse.Namespace], int]
_SEPARATORS = re.compile(r"[\s:.-]")


def parse_hex(text: str, option: str, command: str = "test-run") -> bytes:
    """Bytes written as hex digits, two per byte; spaces, colons, dots and
    dashes between them are allowed (as tcpdump and Wireshark print them)."""
    digits = _SEPARATORS.sub("", text)
    if digits.lower().startswith("0x"):
        digits = digits[2:]
    if len(digits) % 2:
        raise UserError(f"pybpfc {command}: error: {option}: {len(digits)} hex digits, an odd "
                        "number; give two digits per byte")
    try:
        return bytes.fromhex(digits)
    except ValueError:
        bad = next(c for c in digits if c not in "0123456789abcdefABCDEF")
        raise UserError(f"pybpfc {command}: error: {option}: {bad!r} is not a hex digit "
                        "(write bytes as hex, e.g. 'ff ff 08 00')") from None


def _read_input(args: argparse.Namespace, name: str, command: str = "test-run"
                ) -> Optional[bytes]:
    """The bytes of ``--NAME-hex`` or ``--NAME-file``, whichever was given."""
    text, path = getattr(args, f"{name}_hex"), getattr(args, f"{name}_file")
    if text is not None and path is not None:
        raise UserError(f"pybpfc {command}: error: give --{name}-hex or --{name}-file, "
                        "not both")
    if text is not None:
        return parse_hex(text, f"--{name}-hex", command)
    if path is not None:
        try:
            return Path(path).read_bytes()
        except OSError as error:
            raise UserError(f"pybpfc {command}: error: --{name}-file: {path}: "
                            f"{error.strerror}") from None
    return None


# The frames --packet builds, by the name it gives them (runtime.packet_build).
FRAME_KINDS = ("udp4", "tcp4", "icmp4", "udp6")


def packet_from_spec(text: str, command: str) -> bytes:
    """``--packet 'udp4(dport=53, src="10.0.0.9")'``: an Ethernet frame made
    by ``packet_build``'s ``udp4_frame`` (or tcp4, icmp4, udp6) with those
    keyword arguments, every checksum filled in."""
    import ast

    from pybpfc.runtime import packet_build
    usage = (f"pybpfc {command}: error: --packet {text!r}: write KIND(NAME=VALUE, ...), KIND "
             f"one of {', '.join(FRAME_KINDS)}, e.g. 'udp4(dport=53)'")
    try:
        call = ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        raise UserError(usage) from None
    if isinstance(call, ast.Name):
        call = ast.Call(call, [], [])
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
            and call.func.id in FRAME_KINDS and not call.args
            and all(k.arg is not None for k in call.keywords)):
        raise UserError(usage)
    build = getattr(packet_build, f"{call.func.id}_frame")
    try:
        keywords = {str(k.arg): ast.literal_eval(k.value) for k in call.keywords}
        if isinstance(keywords.get("payload"), str):
            keywords["payload"] = keywords["payload"].encode()
        return bytes(build(**keywords))
    except (ValueError, TypeError, OSError, SyntaxError) as error:
        raise UserError(f"{usage} ({error})") from None


def add_packet_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--packet", metavar="KIND(NAME=VALUE,...)", dest="packet_spec",
                        help="the packet, built: udp4, tcp4, icmp4 or udp6 with sport, dport, "
                             "src, dst, payload, ... e.g. 'udp4(dport=53)'")
    parser.add_argument("--packet-hex", metavar="HEX", help="the packet, in hex")
    parser.add_argument("--packet-file", metavar="FILE", help="a file holding the packet")


def packet_input(args: argparse.Namespace, command: str) -> Optional[bytes]:
    """The frame ``--packet``, ``--packet-hex`` or ``--packet-file`` gave."""
    given = _read_input(args, "packet", command)
    if args.packet_spec is not None:
        if given is not None:
            raise UserError(f"pybpfc {command}: error: give one of --packet, --packet-hex and "
                            "--packet-file")
        given = packet_from_spec(args.packet_spec, command)
    return given


def _pick_program(coll: Any, name: Optional[str]) -> Any:
    from pybpfc.runtime.packet_run import _CONTEXT_SIZES
    packet_programs = [p for p in coll.programs.values()
                       if p.spec.prog_type in _CONTEXT_SIZES]
    names = ", ".join(p.name for p in packet_programs) or "none"
    if name is None:
        if len(packet_programs) != 1:
            raise UserError("pybpfc test-run: error: the object has "
                            f"{len(packet_programs)} packet programs ({names}); name one "
                            "with --program NAME")
        return packet_programs[0]
    if name not in coll.programs:
        raise UserError(f"pybpfc test-run: error: no program '{name}' in the object "
                        f"(its packet programs: {names})")
    return coll.programs[name]


def test_run(args: argparse.Namespace) -> int:
    from pybpfc.runtime.collection import load
    packet = packet_input(args, "test-run")
    if packet is None:
        raise UserError("pybpfc test-run: error: give the packet with --packet-hex HEX, "
                        "--packet-file FILE (an Ethernet frame) or --packet 'udp4(dport=53)'")
    ctx = _read_input(args, "ctx")
    if args.repeat < 1:
        raise UserError(f"pybpfc test-run: error: --repeat must be at least 1, not "
                        f"{args.repeat}")
    with load(args.read_spec(args, args.object)) as coll:
        program = _pick_program(coll, args.program)
        run = program.run_packet(packet, ctx=ctx, repeat=args.repeat)
    if args.json:
        print(json.dumps({"program": program.name, "section": program.spec.section,
                          "verdict": run.verdict, "retval": run.retval,
                          "packet_out": run.packet.hex(), "ctx_out": run.ctx.hex(),
                          "duration_ns": run.duration_ns, "repeat": run.repeat}))
        return EXIT_OK
    change = "unchanged" if run.packet == packet else "changed"
    print(f"{program.name}: {run.verdict} (returned {run.retval}); packet out: "
          f"{len(run.packet)} bytes, {change}; {run.duration_ns} ns per run "
          f"({run.repeat} run{'' if run.repeat == 1 else 's'})")
    if run.packet != packet:
        print(f"packet out: {run.packet.hex(' ')}")
    if run.ctx and run.ctx != ctx:
        print(f"context out: {run.ctx.hex(' ')}")
    sys.stdout.flush()
    return EXIT_OK


# ------------------------------------------------------- --dev for `run`

NETDEV_TARGETS = (abi.TARGET_NETDEV_XDP, abi.TARGET_NETDEV_TC)


@dataclass(frozen=True)
class Device:
    """The interface ``--dev`` names and how packet programs attach there."""
    interface: str
    xdp_mode: Optional[str]
    tc_direction: Optional[str]
    tc_via: Optional[str]
    programs: tuple[str, ...]     # attach only these (all when empty)
    command: str = "run"


def device_of(args: argparse.Namespace) -> Optional[Device]:
    if args.dev is None:
        for option, flag in (("xdp_mode", "--xdp-mode"), ("tc_direction", "--tc-direction"),
                             ("tc_via", "--tc-via"), ("only", "--program")):
            if getattr(args, option) is not None:
                raise UserError(f"pybpfc {args.command}: error: {flag} goes with --dev IFACE")
        return None
    return Device(args.dev, args.xdp_mode, args.tc_direction, args.tc_via,
                  tuple(args.only or ()), args.command)


def check_programs_named(coll: Any, device: Optional[Device]) -> None:
    """Refuse a ``--program`` the object lacks, and several XDP programs for
    the one XDP hook of an interface, before anything is attached."""
    if device is None:
        return
    unknown = [name for name in device.programs if name not in coll.programs]
    if unknown:
        raise UserError(f"pybpfc {device.command}: error: --program {unknown[0]}: no such program in the "
                        f"object (it has: {', '.join(coll.programs)})")
    xdp = [p.name for p in coll.programs.values() if p.attach_target == abi.TARGET_NETDEV_XDP
           and (not device.programs or p.name in device.programs)]
    if len(xdp) > 1:
        raise UserError(f"pybpfc {device.command}: error: {device.interface} takes one XDP program and "
                        f"the object has {len(xdp)} ({', '.join(xdp)}): choose one with "
                        "--program NAME")


def attach_to_device(program: Any, device: Device) -> Any:
    """Attach an XDP or tc program to the ``--dev`` interface."""
    if program.attach_target == abi.TARGET_NETDEV_XDP:
        return program.attach(device.interface, mode=device.xdp_mode)
    return program.attach(device.interface, direction=device.tc_direction, via=device.tc_via)


def device_for_load(args: argparse.Namespace) -> Optional[Device]:
    """``--dev`` for ``load --pin``: tc through tcx links only, since a
    cls_bpf filter is no link, cannot be pinned and would outlive pybpfc
    with nothing to detach it."""
    device = device_of(args)
    if device is not None and device.tc_via == "netlink":
        raise UserError("pybpfc load: error: --tc-via netlink makes cls_bpf filters, which "
                        "cannot be pinned; `load --dev` attaches tc programs through tcx links")
    return None if device is None else Device(device.interface, device.xdp_mode,
                                              device.tc_direction, "tcx", device.programs,
                                              device.command)


def add_device_options(parser: argparse.ArgumentParser, how_long: str) -> None:
    parser.add_argument("--dev", metavar="IFACE",
                        help=f"attach the XDP and tc programs to this network interface "
                             f"{how_long}")
    parser.add_argument("--xdp-mode", choices=("generic", "native"),
                        help="XDP in generic (any driver) or native (driver) mode; default: "
                             "the kernel's choice")
    parser.add_argument("--tc-direction", choices=("ingress", "egress"),
                        help="where a program of a plain 'tc' section attaches (tcx/ingress "
                             "and tcx/egress sections say it themselves)")
    parser.add_argument("--tc-via", choices=("tcx", "netlink"),
                        help="attach tc programs through tcx links or netlink's cls_bpf; "
                             "default: tcx, netlink on kernels without it")
    parser.add_argument("--program", dest="only", action="append", metavar="NAME",
                        help="with --dev: attach only this program (repeat for more); an "
                             "interface takes one XDP program")


def add_test_run_command(commands: Any, parents: list[argparse.ArgumentParser],
                         object_bytes: ObjectBytes, runtime_errors: Callable[[Command], Command],
                         read_spec: Callable[[argparse.Namespace, str], Any]) -> None:
    """Add ``test-run``; ``cli_runtime`` hands over how it reads objects and
    reports runtime errors."""
    parser = commands.add_parser(
        "test-run", parents=parents, help="run a packet program on a packet, no network needed",
        description="Load the object (building a .py program first) and run one XDP, tc, "
                    "cgroup_skb or socket filter program on the packet given, in the kernel "
                    "(BPF_PROG_TEST_RUN): print its verdict, the packet as it left it and "
                    "the time per run. Nothing is attached. The packet is an Ethernet "
                    "frame (a cgroup_skb program sees it from the IP header on).")
    parser.add_argument("object", metavar="PROGRAM", help="a pybpfc program (.py) or an object")
    parser.add_argument("--program", metavar="NAME",
                        help="the program to run (needed when the object has several)")
    add_packet_options(parser)
    parser.add_argument("--ctx-hex", metavar="HEX",
                        help="the context in: a struct __sk_buff (tc, cgroup_skb) or "
                             "struct xdp_md (XDP), in hex")
    parser.add_argument("--ctx-file", metavar="FILE", help="a file holding the context in")
    parser.add_argument("--repeat", type=int, default=1, metavar="N",
                        help="run it N times; the time printed is the average")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(run=runtime_errors(test_run), command="test-run",
                        object_bytes=object_bytes, read_spec=read_spec)
