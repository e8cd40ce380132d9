"""What pybpfc's integer operations mean, as plain Python.

This is the language's definition of fixed-width arithmetic.  The checker
folds constants with it, lowering generates code that does the same, and the
tests compare the kernel's results against it.

- Results wrap around to the operands' width (two's complement).
- ``//`` and ``%`` follow Python: division rounds toward minus infinity and
  the remainder has the divisor's sign.  Dividing by zero gives 0 and the
  remainder of a division by zero is the dividend (the BPF machine's rule,
  since a hook cannot raise).
- Shift counts are taken modulo the width; ``>>`` is arithmetic for signed
  types and logical for unsigned ones.
"""
from __future__ import annotations

from .types import IntType


def wrap(value: int, ty: IntType) -> int:
    """``value`` reduced to ``ty``'s range, as two's complement would."""
    value &= (1 << ty.bits) - 1
    if ty.signed and value >> (ty.bits - 1):
        value -= 1 << ty.bits
    return value


def floordiv(a: int, b: int, ty: IntType) -> int:
    if b == 0:
        return 0
    return wrap(a // b, ty)


def mod(a: int, b: int, ty: IntType) -> int:
    if b == 0:
        return wrap(a, ty)
    return wrap(a - floordiv(a, b, ty) * b, ty)


def binary(op: str, a: int, b: int, ty: IntType) -> int:
    """``a op b`` for operands already of type ``ty``."""
    if op == "+":
        return wrap(a + b, ty)
    if op == "-":
        return wrap(a - b, ty)
    if op == "*":
        return wrap(a * b, ty)
    if op == "//":
        return floordiv(a, b, ty)
    if op == "%":
        return mod(a, b, ty)
    if op == "&":
        return wrap(a & b, ty)
    if op == "|":
        return wrap(a | b, ty)
    if op == "^":
        return wrap(a ^ b, ty)
    if op == "<<":
        return wrap(a << (b % ty.bits), ty)
    if op == ">>":
        shift = b % ty.bits
        if ty.signed:
            return wrap(a >> shift, ty)
        return wrap(a, ty) >> shift
    raise ValueError(f"not an integer operator: {op}")


def unary(op: str, a: int, ty: IntType) -> int:
    if op == "-":
        return wrap(-a, ty)
    if op == "+":
        return wrap(a, ty)
    if op == "~":
        return wrap(~a, ty)
    raise ValueError(f"not an integer operator: {op}")


def compare(op: str, a: int, b: int) -> bool:
    return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b,
            "==": a == b, "!=": a != b}[op]


def convert(value: int, to: IntType) -> int:
    """``to(value)``: truncation or extension, as a cast does."""
    return wrap(value, to)


# An integer constant computed before it takes a type (a literal, or an
# operator on such constants, folded with Python's unbounded integers) has
# at most UNTYPED_LIMIT_BITS bits (its magnitude is below 2**128): folding
# stays cheap (40 chained squarings of 2 would need gigabytes), and any
# message can show the value.  A constant must fit its type in the end,
# which is at most 64 bits.  (The parser holds literals to the same bound.)
UNTYPED_LIMIT_BITS = 128


def untyped_in_bounds(value: int) -> bool:
    return value.bit_length() <= UNTYPED_LIMIT_BITS


# Packet offsets (ctx.header): the largest offset plus size of a packet
# pointer the verifier follows (its MAX_PACKET_OFF), and the mask a variable
# offset the checker cannot bound is tested against and masked to (a
# packet's headers lie well within its first 16 KiB).
MAX_PACKET_OFF = 0xFFFF
VARIABLE_PACKET_OFFSET_MASK = 0x3FFF
