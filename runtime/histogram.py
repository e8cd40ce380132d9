"""Power-of-two histograms, as bpftrace's ``hist()`` keeps and prints them.

The convention (the compiler's histogram map kind follows it): an array map
(or per-CPU array) of ``u64`` counts, one element per bucket, key = bucket
index:

- bucket 0 counts values below 0;
- bucket 1 counts the value 0;
- bucket k >= 2 counts the values in [2^(k-2), 2^(k-1)): bucket 2 is 1,
  bucket 3 is 2 and 3, bucket 4 is 4 to 7, ...

so a value v > 0 goes to bucket ``1 + bit_length(v)``, at most 65 for a
u64; 66 buckets hold any 64-bit value, fewer do for smaller ranges (a
value past the last bucket is the program's to clamp or drop).
:func:`bucket_of` is the rule in Python.  Printed, each non-empty stretch
of buckets is a row: its range, its count and a bar scaled to the largest.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator

from .errors import BpfError

if TYPE_CHECKING:
    from .maps import Map

MAX_BUCKETS = 66
BAR_WIDTH = 52
_SUFFIXES = ("", "K", "M", "G", "T", "P", "E")


def bucket_of(value: int) -> int:
    """The bucket a value is counted in."""
    if value < 0:
        return 0
    return 1 + value.bit_length()


def bucket_range(index: int) -> tuple[int, int]:
    """The values bucket ``index`` counts, as [low, high); bucket 0 (the
    negative values) is (-2^63, 0)."""
    if index == 0:
        return -(1 << 63), 0
    if index == 1:
        return 0, 1
    return 1 << (index - 2), 1 << (index - 1)


def _size(value: int) -> str:
    """``512``, ``1K``, ``4M``: a power of two in 1024s, as bpftrace writes it."""
    for power, suffix in enumerate(_SUFFIXES):
        unit = 1 << (10 * power)
        if value < unit * 1024 or power == len(_SUFFIXES) - 1:
            return f"{value // unit}{suffix}"
    raise AssertionError(value)


def bucket_label(index: int) -> str:
    if index == 0:
        return "(..., 0)"
    low, high = bucket_range(index)
    return f"[{low}]" if high - low == 1 else f"[{_size(low)}, {_size(high)})"


@dataclass(frozen=True)
class Log2Histogram:
    """Counts per bucket (``counts[i]`` is bucket i)."""
    counts: tuple[int, ...]

    @classmethod
    def from_map(cls, buckets: "Map") -> Log2Histogram:
        """Read a histogram map (a per-CPU one is summed over the CPUs)."""
        spec = buckets.spec
        if spec.value_size != 8 or spec.key_size != 4:
            raise BpfError(f"{buckets.what}: a histogram is an array of u64 counts (4-byte "
                           f"keys, 8-byte values), not {spec.key_size}-byte keys and "
                           f"{spec.value_size}-byte values")
        if not 0 < spec.max_entries <= MAX_BUCKETS:
            raise BpfError(f"{buckets.what}: a histogram has 1 to {MAX_BUCKETS} buckets, "
                           f"not {spec.max_entries}")
        counts = []
        for index in range(spec.max_entries):
            value = buckets.get(index, 0)
            if isinstance(value, list):           # per-CPU: one count per CPU
                value = sum(_count(v) for v in value)
            counts.append(_count(value))
        return cls(tuple(counts))

    @property
    def total(self) -> int:
        return sum(self.counts)

    def rows(self) -> Iterator[tuple[str, int]]:
        """(label, count) from the first non-empty bucket to the last."""
        used = [i for i, count in enumerate(self.counts) if count]
        if not used:
            return
        for index in range(used[0], used[-1] + 1):
            yield bucket_label(index), self.counts[index]

    def render(self, width: int = BAR_WIDTH) -> str:
        """The histogram as bpftrace prints it: a row per bucket, a bar of
        ``@`` as long as its share of the largest count."""
        rows = list(self.rows())
        if not rows:
            return ""
        peak = max(count for _, count in rows)
        label_width = max(16, max(len(label) for label, _ in rows) + 1)
        lines = []
        for label, count in rows:
            bar = "@" * (count * width // peak)
            lines.append(f"{label:<{label_width}}{count:>8} |{bar:<{width}}|")
        return "\n".join(lines) + "\n"

    def __str__(self) -> str:
        return self.render()


def _count(value: object) -> int:
    if isinstance(value, bytes):
        return int.from_bytes(value, "little")
    if isinstance(value, int):
        return value
    raise BpfError(f"a histogram bucket holds {value!r}, not a u64 count")
