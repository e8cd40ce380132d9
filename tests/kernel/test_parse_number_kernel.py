"""strtoul()/strtol() in the kernel: a parse that reads no number gives
value 0, one that does gives the number.  The helper's slot is not zeroed
before the call: kernels since 6.12 write 0 there when the parse fails,
and on older ones the lowering's test of the length gives 0 (which
tests/compiler/test_parse_number_value.py sees, running the hook's IR with
helpers that leave junk there)."""
from __future__ import annotations

import errno

from tests.compiler.test_parse_number_value import PROGRAM
from tests.kernel.test_seed_examples import write_sysctl
from tests.support import Attached, run_in_cgroup, unshare_network
from pybpfc.compiler.driver import compile_source
from pybpfc.compiler.errors import Source
from pybpfc.runtime.cgroup import TemporaryCgroup

TCP_RMEM = "/proc/sys/net/ipv4/tcp_rmem"


def test_a_failed_parse_gives_value_zero(cgroup: TemporaryCgroup) -> None:
    elf = compile_source(Source("parse.py", PROGRAM)).elf
    with Attached(elf, cgroup) as coll:
        def write(text: str) -> int:
            def child() -> int:
                unshare_network()        # a private tcp_rmem, refused anyway
                return write_sysctl(TCP_RMEM, text)
            return run_in_cgroup(cgroup.path, child)

        def seen() -> tuple[int, int, int, int]:
            g = coll.globals
            return g["value"], g["length"], g["signed_value"], g["signed_length"]

        # strtoul takes no sign: the kernel says -EINVAL, and value is 0.
        assert write("-42 7 9") == errno.EPERM
        assert seen() == (0, -errno.EINVAL, -42, 3)
        assert write("42 7 9") == errno.EPERM
        assert seen() == (42, 2, 42, 2)
        # The same slots, a text with no number: the values the last run
        # left there must not show through.
        assert write("zz 7 9") == errno.EPERM
        value, length, signed_value, signed_length = seen()
        assert (value, signed_value) == (0, 0)
        assert length == signed_length == -errno.EINVAL
