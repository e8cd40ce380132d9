"""The one source of randomness the generators use.

A generator takes a ``Chooser``; hypothesis drives it in the tests (so
failures shrink and replay), a seeded ``random.Random`` in the long runs
(fast, and reproducible from the seed printed with a failure).
"""
from __future__ import annotations

import random
from typing import Any, Callable, Protocol, Sequence, TypeVar

T = TypeVar("T")


class Chooser(Protocol):
    def integer(self, low: int, high: int) -> int:
        """An int in [low, high]."""

    def choice(self, options: Sequence[T]) -> T:
        """One of ``options`` (non-empty)."""


class RandomChooser:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)

    def integer(self, low: int, high: int) -> int:
        return self.rng.randint(low, high)

    def choice(self, options: Sequence[T]) -> T:
        return options[self.rng.randrange(len(options))]


class DrawChooser:
    """Draws through hypothesis (``st.composite``'s ``draw``)."""

    def __init__(self, draw: Callable[[Any], Any]):
        from hypothesis import strategies as st
        self._draw = draw
        self._st = st

    def integer(self, low: int, high: int) -> int:
        return int(self._draw(self._st.integers(low, high)))

    def choice(self, options: Sequence[T]) -> T:
        return options[self.integer(0, len(options) - 1)]


def chance(chooser: Chooser, percent: int) -> bool:
    return chooser.integer(1, 100) <= percent
