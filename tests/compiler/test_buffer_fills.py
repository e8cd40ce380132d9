"""A new bytearray's zeros are left out only where no one can read them:
the next statement first of all hands the whole buffer to a helper that
writes all of it on every path (frame.py, ``FILLS_BUFFER``)."""
from __future__ import annotations

import textwrap

import pytest

from pybpfc.compiler import ast as A
from pybpfc.compiler.driver import check_source
from pybpfc.compiler.errors import Source
from pybpfc.compiler.frame import plan_frames

HEADER = """\
from pybpfc import DROP, KEEP_ALL, SkBuff, get_current_comm, skb_load_bytes, socket_filter
"""


def zeroing_left_out(body: str) -> set[str]:
    """The bytearrays of the hook in ``body`` that start without zeros."""
    program = check_source(Source("fills.py", HEADER + textwrap.dedent(body)))
    (hook,) = program.hooks
    filled = plan_frames(program)[id(hook)].filled_first
    return {s.target.id for stmts in A.statement_lists(hook.node.body) for s in stmts
            if isinstance(s, A.Assign) and id(s.value) in filled}


def test_a_buffer_the_helper_fills_first_is_not_zeroed() -> None:
    assert zeroing_left_out("""
        @socket_filter
        def f(skb: SkBuff) -> int:
            header = bytearray(20)
            if skb_load_bytes(skb, 14, header) < 0 or header[8] <= 1:
                return DROP
            return KEEP_ALL
        """) == {"header"}


@pytest.mark.parametrize("reads_first", [
    # read before the helper runs
    """
    header = bytearray(20)
    x = header[0]
    skb_load_bytes(skb, 14, header)
    """,
    # read in the helper's own arguments, before the call
    """
    header = bytearray(20)
    skb_load_bytes(skb, header[0], header)
    """,
    # the helper may not run at all
    """
    header = bytearray(20)
    if skb.len > 100 and skb_load_bytes(skb, 14, header) < 0:
        return DROP
    """,
    # another statement first
    """
    header = bytearray(20)
    n = skb.len
    skb_load_bytes(skb, 14, header)
    """,
    # another buffer is filled
    """
    header = bytearray(20)
    other = bytearray(16)
    get_current_comm(other)
    """,
])
def test_zeros_someone_may_read_stay(reads_first: str) -> None:
    body = textwrap.indent(textwrap.dedent(reads_first).strip(), " " * 12)
    assert "header" not in zeroing_left_out(f"""
        @socket_filter
        def f(skb: SkBuff) -> int:
{body}
            return KEEP_ALL
        """)
