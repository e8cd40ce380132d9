"""What the checker found each construct to be: the contract between
checking and everything after it.

The checker stores one of these records on every name, attribute access,
subscript, call and special comparison it accepts (``Expr.resolved``), and
on the few nodes whose meaning depends on their use (initialisers, loops).
Lowering dispatches on the record's type and reads its facts; it never
looks at the shape of the tree, a builtin's name or a symbol's kind to
decide what something is.  A node without a record is an operator
(``+``, ``not``, ``a < b``, ``x if c else y``, a cast) whose meaning is its
node type.

The records are plain data: they say what a construct means (which field,
which helper, whether an index is proven in range), never how to build
code for it, so an interpreter of checked programs can read them too.
Operands that are expressions stay in the tree, except where a record
names them itself (a map method's arguments by parameter, the base a
context member is reached through).
"""
from __future__ import annotations

from typing import Optional

from .. import abi
from ..records import record
from . import ast as A
from .symbols import FuncSym, GlobalVar, LocalVar, MapVar
from .kernel_structs import KernelMember
from .types import IntType, Type, WindowType


class Resolved:
    """Base of every record the checker stores on a node."""


# ---------------------------------------------------------------- variables

@record(frozen=True, eq=False)
class LocalVariable(Resolved):
    """A local variable or parameter (a struct parameter is its address)."""
    var: LocalVar


@record(frozen=True, eq=False)
class GlobalVariable(Resolved):
    """A module-level global; ``var.readonly`` globals are set by user
    space before loading, so their reads must never be folded."""
    var: GlobalVar


@record(frozen=True, eq=False)
class ContextArgument(Resolved):
    """The hook's context argument: a pointer to the kernel's struct."""
    var: LocalVar


@record(frozen=True, eq=False)
class NamedConstant(Resolved):
    value: object


# ------------------------------------------------------- program memory

@record(frozen=True, eq=False)
class StructField(Resolved):
    """``s.f`` of a struct in memory: ``offset`` bytes into it.
    ``in_readonly_global``: the memory is a ReadOnly global's."""
    offset: int
    in_readonly_global: bool


@record(frozen=True, eq=False)
class ArrayElement(Resolved):
    """``xs[i]`` of a list or bytearray.  ``in_range``: the checker proved a
    variable index in range (a loop variable over a constant range);
    otherwise a variable index is checked where it is used, and an
    out-of-range read gives 0 and an out-of-range write does nothing."""
    elem_size: int
    length: int
    in_range: bool
    in_readonly_global: bool


@record(frozen=True, eq=False)
class RefValue(Resolved):
    """``ref.value``: the map value a reference (proven not None) points to."""


# ------------------------------------------------------ kernel memory

@record(frozen=True, eq=False)
class ContextField(Resolved):
    """``ctx.f``, an integer field of the context.  ``stable``: the hook
    cannot write it and the verifier accepts narrower reads, so a read may
    be reused; otherwise every read is its own, of the field's width.
    ``whole``: for a stable part of a packed member, that member, read
    whole and the part taken out of it, so that reads of its parts share
    one load and LLVM may test them together."""
    field: abi.Field
    stable: bool
    whole: Optional[abi.Field] = None


@record(frozen=True, eq=False)
class ContextDataLoc(Resolved):
    """``ctx.filename`` of a tracepoint's ``__data_loc`` member: the kernel
    address of the data it locates, the event record's address plus the
    low 16 bits of the member (the high 16 are the data's length)."""
    field: abi.Field


@record(frozen=True, eq=False)
class SocketPointer(Resolved):
    """``ctx.sk``: the pointer to the socket, never NULL in these abi."""
    field: abi.Field


@record(frozen=True, eq=False)
class SocketField(Resolved):
    """``ctx.sk.f``: a field of the socket behind ``ctx.sk``."""
    field: abi.Field
    stable: bool


@record(frozen=True, eq=False)
class ContextArrayElement(Resolved):
    """``ctx.cb[2]``, ``ctx.sk.src_ip6[1]``: an element of an array member,
    at ``offset`` from the pointer ``base`` evaluates to (the context or
    the socket)."""
    field: abi.Field
    offset: int
    base: A.Expr
    stable: bool


@record(frozen=True, eq=False)
class OptvalWindow(Resolved):
    """``ctx.optval``: only ever the base of a checked access."""
    window: WindowType


@record(frozen=True, eq=False)
class OptvalByte(Resolved):
    """``ctx.optval[i]``: one byte, 0 when outside the buffer (a write
    outside it does nothing).  ``within``: the index is the variable of
    this loop over ``range(len(ctx.optval))``, so always inside; the loop
    tests that byte once a round (a failure, which cannot happen, leaves
    it) and the access goes through the address it tested."""
    window: WindowType
    within: Optional[A.For] = None
    inside: bool = False      # a constant index a length test found inside


@record(frozen=True, eq=False)
class OptvalAccess(Resolved):
    """``ctx.optval.u32(offset)`` / ``ctx.optval.set_u32(offset, value)``:
    a ``ty`` in the option buffer, in host byte order; 0 when outside.
    ``inside``: at a constant offset that a length test on every path to
    it found inside the buffer, so it needs no test of its own."""
    window: WindowType
    ty: IntType
    write: bool
    inside: bool = False


@record(frozen=True, eq=False)
class WindowLength(Resolved):
    """``len(ctx.optval)``; ``context`` is the expression of the context."""
    window: WindowType
    context: A.Expr


@record(frozen=True, eq=False)
class WindowLengthTest(Resolved):
    """``len(ctx.optval) >= N`` (or ``>``, ``<``, ``<=``) with N a constant
    of at most a page: whether ``need`` bytes fit in the buffer, or
    (``fits_is_false``) whether they do not."""
    window: WindowType
    context: A.Expr
    need: int
    fits_is_false: bool


@record(frozen=True, eq=False)
class PacketLoad(Resolved):
    """``skb.load_u16(offset)``: packet bytes in network order, given in
    host order (outside the packet, the program ends and returns 0);
    ``context`` is the expression of the context."""
    ty: IntType
    context: A.Expr


# ------------------------------------------------- packets (issue 15)

@record(frozen=True, eq=False)
class PacketHeader(Resolved):
    """``ctx.header(T, offset)``: the address of a ``size``-byte header at
    ``offset`` in the packet between the context's ``start`` and ``end``
    fields, or None when the packet is too short; the call's arguments are
    (type, offset).  ``bounded``: the checker proved a variable offset
    small enough for the verifier; otherwise it is tested and masked."""
    start: abi.Field
    end: abi.Field
    size: int
    bounded: bool


@record(frozen=True, eq=False)
class PacketField(Resolved):
    """``ip.protocol``: a field ``offset`` bytes into a header (proven not
    None) in the packet, read and written as it is on the wire."""
    offset: int


# ------------------------------------------- kernel structs through BTF

@record(frozen=True, eq=False)
class KernelField(Resolved):
    """``task.pid``, ``task.real_parent``: a member of the kernel struct a
    kernel pointer points to, reached with a CO-RE relocation (so at the
    loading kernel's offset).  ``trusted``: a plain load, which the
    verifier checks against BTF; otherwise bpf_probe_read_kernel into a
    hidden slot ("kernel_read"), 0 when the read faults."""
    struct: str
    member: KernelMember
    trusted: bool


@record(frozen=True, eq=False)
class KernelArgument(Resolved):
    """``ctx.args[0]`` of a tp_btf hook where its BTF prototype gives a
    pointer to a struct, used as one (``ctx.args[0].pid``, ``task =
    ctx.args[0]``): the BTF-typed pointer at ``offset`` in the context
    ``base`` evaluates to."""
    offset: int
    base: A.Expr


@record(frozen=True, eq=False)
class KernelBytesCopy(Resolved):
    """``ev.comm = task.comm`` (on the Assign statement): the first
    ``length`` bytes of the kernel's byte array copied into the target
    bytearray with bpf_probe_read_kernel (zeros when the read faults)."""
    length: int


@record(frozen=True, eq=False)
class KernelAddress(Resolved):
    """``u64(task)``: the address a kernel pointer holds, as an integer."""


@record(frozen=True, eq=False)
class KernelPointerCast(Resolved):
    """``task_struct(addr)``: a kernel address taken as a pointer to a
    kernel struct whose fields are probe-read."""


# ------------------------------------------------------------------ calls

@record(frozen=True, eq=False)
class HelperCall(Resolved):
    """A kernel helper called as a function; the call's arguments match
    ``helper.params`` one for one."""
    helper: abi.Helper


@record(frozen=True, eq=False)
class MapMethodCall(Resolved):
    """``some_map.method(...)``: the map, the method and the helper it
    calls, and the checked arguments by the role the helper receives them
    in (``abi.MethodParam.role``: key, key_by_value, value, flags, sk,
    create, record; None: the parameter's default)."""
    map: MapVar
    method: str
    helper: abi.Helper
    args: dict[str, Optional[A.Expr]]


@record(frozen=True, eq=False)
class HistogramAdd(MapMethodCall):
    """``hist.add(value)``: count ``args["sample"]`` (of its own integer
    type) in its power-of-two bucket, the key of the element added to."""


@record(frozen=True, eq=False)
class UserCall(Resolved):
    """A call of a helper function of the program; ``by_address[i]``: the
    i-th argument is a struct passed by reference, as in Python."""
    function: FuncSym
    by_address: tuple[bool, ...]


@record(frozen=True, eq=False)
class Conversion(Resolved):
    """``u32(x)``, ``int(x)``, ``bool(x)``: the argument as ``to``
    (truncated or extended as a cast does; a truth test for bool)."""
    to: Type


@record(frozen=True, eq=False)
class MinMax(Resolved):
    smallest: bool    # min() rather than max()


@record(frozen=True, eq=False)
class ByteSwap(Resolved):
    """``htons`` and friends on this little-endian machine: the bytes of
    the argument (already of width ``ty``) reversed.  ``to_network``: htons
    or htonl, whose value may stand where a be16/be32 is expected."""
    ty: IntType
    to_network: bool = False


@record(frozen=True, eq=False)
class AtomicAdd(Resolved):
    """``atomic_add(target, amount)``: one indivisible add to a global or
    map value.  ``old_value_used``: the call's value (the old value) is
    read; a statement on its own does not need it."""
    old_value_used: bool


@record(frozen=True, eq=False)
class AtomicUpdate(Resolved):
    """``target += n`` (or ``-=``) on a 32- or 64-bit integer that other
    CPUs may update at the same time (a global, a value of a map shared by
    all CPUs): one indivisible add, of ``-n`` for ``-=``, so no update is
    lost.  Recorded on the ``AugAssign`` statement."""
    subtract: bool


@record(frozen=True, eq=False)
class Print(Resolved):
    """``print(...)``: one trace line; the values are the call's arguments
    (the strings are in the format already)."""
    format: bytes


@record(frozen=True, eq=False)
class StartsWith(Resolved):
    """``buf.startswith(b"...")``.  ``own_storage``: ``buffer`` is a
    variable's whole storage (not a struct member), which starts aligned."""
    buffer: A.Expr
    prefix: bytes
    own_storage: bool


# ---------------------------------------------------------- comparisons

@record(frozen=True, eq=False)
class NoneTest(Resolved):
    """``ref is None`` / ``ref is not None``."""
    ref: A.Expr
    is_none: bool


@record(frozen=True, eq=False)
class BufferEquals(Resolved):
    """``buf == b"..."`` (``negate``: ``!=``) for a literal as long as the
    buffer (a literal of another length is refused by the checker)."""
    buffer: A.Expr
    data: bytes
    own_storage: bool
    negate: bool


@record(frozen=True, eq=False)
class OneOf(Resolved):
    """``x in (25, 465, 587)`` or ``c in b"./"`` (``negate``: ``not in``):
    the comparison's one operand equals one of ``values``, constants of
    its type."""
    values: tuple[int, ...]
    negate: bool


@record(frozen=True, eq=False)
class Docstring(Resolved):
    """A string standing as a statement: it does nothing."""


# ------------------------------------------------- initialisers and loops

@record(frozen=True, eq=False)
class StructInit(Resolved):
    """``Name()``: a struct that starts as zero."""


@record(frozen=True, eq=False)
class BytesInit(Resolved):
    """``bytearray(N)`` (``data`` None: zeros) or ``bytearray(b"...")``."""
    data: Optional[bytes]


@record(frozen=True, eq=False)
class ListInit(Resolved):
    """``[a, b, c]`` or ``[a, b] * repeat``: the elements in order."""
    elements: list[A.Expr]
    repeat: int


@record(frozen=True, eq=False)
class ParseNumber(Resolved):
    """``parsed = strtoul(buf, offset, base)``: the helper parses ``buf``
    from ``offset`` into the ParsedInt/ParsedUint variable being
    initialised; an offset past the end gives length -EINVAL and no call.
    The call's arguments are (buffer, offset, base)."""
    helper: abi.Helper


@record(frozen=True, eq=False)
class RangeLoop(Resolved):
    """``for i in range(...)``: the arguments (start, stop; or stop alone)
    are of type ``ty`` and the step is the constant ``step``.  ``window``:
    its variable is always an index into this option buffer (a loop over
    ``range(len(ctx.optval))``), whose byte at the index each round tests
    once, as part of the loop's test."""
    ty: IntType
    step: int
    window: Optional[WindowType] = None
    # The stop is the buffer's length itself: the byte's test alone is the
    # loop's test.
    to_the_end: bool = False

