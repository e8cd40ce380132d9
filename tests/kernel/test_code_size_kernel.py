"""The shorter code shapes of tests/compiler/test_code_size.py, run in the
kernel: each counts or answers as Python says it must."""
from __future__ import annotations

import textwrap

from pybpfc.compiler.driver import compile_source
from pybpfc.compiler.errors import Source
from pybpfc.runtime.collection import load
from pybpfc.runtime.elf import read_object
from pybpfc.runtime.histogram import Log2Histogram, bucket_of
from tests.support import require_root

# Any frame will do: the program reads only its global.
FRAME = bytes(range(64))

HISTOGRAM = """
from pybpfc import XDP_PASS, Histogram, XdpContext, i64, xdp

sample: i64 = 0
samples: Histogram = Histogram()


@xdp
def count(ctx: XdpContext) -> int:
    samples.add(sample)
    return XDP_PASS
"""


def test_histogram_buckets_by_halving_match_bit_length() -> None:
    # Every bucket's edges, found at run time (the sample is a global the
    # test sets, so nothing is folded at compile time).
    require_root("running an XDP program")
    values = [0, -1, -(2**63), 2**63 - 1]
    for bits in range(1, 63):
        values += [2**bits - 1, 2**bits, 2**bits + 1]
    spec = read_object(compile_source(Source("hist.py", textwrap.dedent(HISTOGRAM))).elf)
    with load(spec) as coll:
        prog = coll.programs["count"]
        for value in values:
            coll.globals["sample"] = value
            assert prog.test_run(FRAME).retval == 2      # XDP_PASS
        counts = Log2Histogram.from_map(coll.maps["samples"]).counts
    expected = [0] * len(counts)
    for value in values:
        expected[bucket_of(value)] += 1
    assert list(counts) == expected
