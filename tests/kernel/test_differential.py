"""The interpreter and the kernel give the same answers (fuzz/differential.py):
every example and 500 generated valid programs, each hook run by real
events (a test run for socket filters, system calls from a child in a
temporary cgroup for the others), verdicts, written fields, globals and
maps compared.  A disagreement is a bug in the compiler or the interpreter."""
from __future__ import annotations

from typing import Iterator

import pytest

from fuzz.differential import NONDETERMINISTIC, Kernel, Tally, compare, examples, generated
from tests.support import REPO_ROOT, require_root

GENERATED = 500
EXAMPLES = sorted((REPO_ROOT / "examples").glob("*.py"))


@pytest.fixture(scope="module")
def kernel() -> Iterator[Kernel]:
    require_root("attaching to a cgroup")
    with Kernel() as k:
        yield k


PACKET_EXAMPLES = {"cgroup_skb_loopback_only", "tc_set_dscp", "xdp_block_prefixes",
                   "xdp_count_protocols", "xdp_drop_udp_port", "xdp_load_balancer",
                   "xdp_redirect_ports"}


def test_every_example_agrees(kernel: Kernel) -> None:
    tally = Tally()
    examples(kernel, tally)
    assert not tally.disagreements, "\n".join(tally.disagreements)
    assert {f"examples/{name}.py" for name in PACKET_EXAMPLES} <= set(tally.names), tally
    # Only an example of a hook with no events yet may be left out, or one
    # calling a helper whose value the kernel changes on every call.
    varying = {f"calls {name}" for name in NONDETERMINISTIC}
    assert all(why.startswith("no events for @") or why in varying
               for why in tally.skipped), tally
    assert tally.compared + sum(tally.skipped.values()) == len(EXAMPLES), tally
    assert tally.compared >= 14, tally


def test_generated_programs_agree(kernel: Kernel) -> None:
    tally = Tally()
    generated(kernel, tally, GENERATED)
    assert not tally.disagreements, "\n".join(tally.disagreements[:20])
    assert tally.compared >= GENERATED, tally


def test_a_disagreement_is_found(kernel: Kernel) -> None:
    """The comparison can fail: an interpreter told the wrong pid disagrees
    with the kernel on a global that keeps it."""
    text = ("from pybpfc import ALLOW, SockContext, cgroup_sock_create, "
            "get_current_pid_tgid, u64\n\n"
            "seen: u64 = 0\n\n\n"
            "@cgroup_sock_create\n"
            "def keep_pid(ctx: SockContext) -> int:\n"
            "    global seen\n"
            "    seen = get_current_pid_tgid() >> 32\n"
            "    return ALLOW\n")
    agreeing = Tally()
    compare(text, "keep_pid.py", kernel, agreeing)
    assert agreeing.compared == 1 and not agreeing.disagreements, agreeing
    kernel.child_fakes["tgid"] += 1
    try:
        wrong = Tally()
        compare(text, "keep_pid.py", kernel, wrong)
    finally:
        kernel.child_fakes["tgid"] -= 1
    assert wrong.disagreements and "seen: kernel" in wrong.disagreements[0], wrong


# What the differential test found, each once a disagreement: the event or
# its reading modelled wrongly, or the interpreter (the last two).
FINDINGS = {
    # The runtime reads an array of 1-byte integers as bytes, unsigned.
    "i8 array": ("from pybpfc import ALLOW, SockContext, cgroup_sock_create, i8\n\n"
                 "xs: list[i8] = [0] * 3\n\n\n@cgroup_sock_create\n"
                 "def f(ctx: SockContext) -> int:\n    xs[1] = -1\n    return ALLOW\n"),
    # getsockopt(SO_MARK) gives a C int; the field is a u32.
    "mark above 2**31": ("from pybpfc import ALLOW, SockContext, cgroup_sock_create\n\n\n"
                         "@cgroup_sock_create\ndef f(ctx: SockContext) -> int:\n"
                         "    ctx.mark = 0xFFFFFFF0\n    return ALLOW\n"),
    # Reading a sysctl file to its end is two read(2)s, two runs of the hook.
    "one run per read": ("from pybpfc import ALLOW, SysctlContext, cgroup_sysctl, u64\n\n"
                         "runs: u64 = 0\n\n\n@cgroup_sysctl\n"
                         "def f(ctx: SysctlContext) -> int:\n    global runs\n    runs += 1\n"
                         "    return ALLOW\n"),
    # A test run gives a socket filter the packet from its IP header on, and
    # a socket of uid 0.
    "filter's packet": ("from pybpfc import SkBuff, get_socket_uid, socket_filter, u32\n\n"
                        "protocol: u32 = 0\nuid: u32 = 7\n\n\n@socket_filter\n"
                        "def f(skb: SkBuff) -> int:\n    global protocol, uid\n"
                        "    protocol = skb.load_u8(9)\n    uid = get_socket_uid(skb)\n"
                        "    return skb.len\n"),
    # An augmented assignment past a list's end does not compute its value.
    "past the end": ("from pybpfc import ALLOW, SockContext, cgroup_sock_create, u8, u32\n\n"
                     "calls: u32 = 0\nbuf: list[u8] = [0] * 4\n\n\n"
                     "def count() -> u8:\n    global calls\n    calls += 1\n    return 1\n\n\n"
                     "@cgroup_sock_create\ndef f(ctx: SockContext) -> int:\n"
                     "    buf[ctx.type + 7] |= count()\n    buf[ctx.type] |= count()\n"
                     "    return ALLOW\n"),
    # atomic_add reads its target after its amount's calls changed it.
    "atomic amount": ("from pybpfc import ALLOW, SockContext, atomic_add, cgroup_sock_create, "
                      "i64\n\ntotal: i64 = 10\n\n\n"
                      "def bump() -> i64:\n    atomic_add(total, 5)\n    return 1\n\n\n"
                      "@cgroup_sock_create\ndef f(ctx: SockContext) -> int:\n"
                      "    atomic_add(total, bump())\n    return ALLOW\n"),
}


@pytest.mark.parametrize("name", FINDINGS)
def test_findings_agree(kernel: Kernel, name: str) -> None:
    tally = Tally()
    compare(FINDINGS[name], f"{name}.py", kernel, tally)
    assert tally.compared == 1 and not tally.disagreements, tally


XDP_HELPERS = '''from pybpfc import XDP_PASS, EthHdr, XdpContext, htons, i64, xdp, xdp_adjust_head, xdp_adjust_tail

results: list[i64] = [0] * 8


@xdp
def f(ctx: XdpContext) -> int:
    results[0] = xdp_adjust_head(ctx, -20)
    results[1] = xdp_adjust_head(ctx, -300)
    results[2] = xdp_adjust_head(ctx, -197)
    results[3] = xdp_adjust_tail(ctx, 10)
    results[4] = xdp_adjust_tail(ctx, 4000)
    results[5] = xdp_adjust_tail(ctx, -4000)
    results[6] = xdp_adjust_head(ctx, 6)
    results[7] = xdp_adjust_head(ctx, 4000)
    eth = ctx.header(EthHdr, 0)
    if eth is None:
        return XDP_PASS
    eth.h_proto = htons(0x1234)
    return XDP_PASS
'''
XDP_GROW_TO_LIMITS = '''from pybpfc import XDP_PASS, XdpContext, i64, xdp, xdp_adjust_head, xdp_adjust_tail

results: list[i64] = [0] * 4


@xdp
def f(ctx: XdpContext) -> int:
    results[0] = xdp_adjust_head(ctx, -216)
    results[1] = xdp_adjust_head(ctx, -1)
    results[2] = xdp_adjust_tail(ctx, 3473)
    results[3] = xdp_adjust_tail(ctx, 1)
    return XDP_PASS
'''


def redirecting(decorator: str, context: str, flags: str) -> str:
    """A program returning what redirect() gives, with ``flags`` computed
    from a count of its runs."""
    return (f"from pybpfc import {context}, i32, redirect, {decorator}, u32\n\n"
            "runs: u32 = 0\n\n\n"
            f"@{decorator}\ndef f(ctx: {context}) -> int:\n    global runs\n"
            f"    runs += 1\n    return i32(redirect(7, {flags}))\n")


TC_HELPERS = '''from pybpfc import (BPF_F_MARK_MANGLED_0, BPF_F_PSEUDO_HDR, TC_ACT_OK, SkBuff, i64,
                    l3_csum_replace, l4_csum_replace, skb_pull_data, skb_store_bytes, tc)

results: list[i64] = [0] * 12


@tc
def f(skb: SkBuff) -> int:
    data = bytearray(4)
    data[0] = 0xAB
    data[3] = 0xCD
    results[0] = skb_store_bytes(skb, 6, data, 0)
    results[1] = skb_store_bytes(skb, skb.len - 2, data, 0)
    results[2] = skb_store_bytes(skb, 0, data, 4)
    results[3] = l3_csum_replace(skb, 24, 0x1234, 0xFEDC, 2)
    results[4] = l3_csum_replace(skb, 24, 0x12345678, 0x9ABCDEF0, 4)
    results[5] = l3_csum_replace(skb, 25, 1, 2, 2)
    results[6] = l3_csum_replace(skb, 24, 1, 2, 3)
    results[7] = l3_csum_replace(skb, 24, 0, 0x10002, 0)
    results[8] = l4_csum_replace(skb, 40, 0x1111, 0x2222, 2 | BPF_F_PSEUDO_HDR)
    results[9] = l4_csum_replace(skb, 40, 0x11112222, 0x33334444, 4 | BPF_F_MARK_MANGLED_0)
    results[10] = skb_pull_data(skb, 20)
    results[11] = skb_pull_data(skb, 5000)
    return TC_ACT_OK
'''
# The packet helpers, each at and around the kernel's limits: the results
# each call gave, the packet out and the verdict are compared.
PACKET_PROGRAMS = {"xdp helpers": XDP_HELPERS, "xdp limits": XDP_GROW_TO_LIMITS,
                   "xdp redirect": redirecting("xdp", "XdpContext", "u32(runs == 3)"),
                   "tc helpers": TC_HELPERS, "tc redirect": redirecting("tc", "SkBuff", "runs & 3")}


@pytest.mark.parametrize("name", PACKET_PROGRAMS)
def test_packet_helpers_agree(kernel: Kernel, name: str) -> None:
    tally = Tally()
    compare(PACKET_PROGRAMS[name], f"{name}.py", kernel, tally)
    assert tally.compared == 1 and not tally.disagreements, tally
