"""The kinds of map a program declares, with the kernel map type each is
and the Python methods it has.

A method's parameters here are the only statement of them: the compiler
binds a call's arguments with them (keywords by these names), and a test
holds the typing stubs in ``pybpfc.lang`` to them, so what mypy accepts and
what pybpfc compiles agree.
"""
from typing import NamedTuple, Optional

from .kernel import BPF_ANY, BPF_F_NO_PREALLOC, MAP_TYPES, PERF_MAX_STACK_DEPTH

# A histogram's buckets: values below 0, 0, then one per power of two of a
# 64-bit value (runtime/histogram.py reads them so).
HISTOGRAM_BUCKETS = 66


class MethodParam(NamedTuple):
    """One parameter of a map method.

    ``name`` is what a program writes (a keyword argument's name).  ``role``
    is what the kernel helper receives it as: ``"key"``, ``"value"``,
    ``"flags"``, ``"sk"``, ``"create"`` or ``"record"``; ``"sample"``, a
    value a histogram counts (any integer; the bucket is the key); or
    ``"key_by_value"``, a key the helper takes as a number, not by address
    (redirect_map).  ``type`` is
    ``"K"``/``"V"`` (the map's declared key or value type), an integer type
    name, ``"bool"``, ``"socket"`` (the context of a sock hook, or
    ``ctx.sk``) or ``"record"`` (an integer, a struct or a bytearray).
    ``default`` is None for a required parameter."""
    name: str
    role: str
    type: str
    default: Optional[int] = None

    @property
    def required(self) -> bool:
        return self.default is None


class Method(NamedTuple):
    """A map method: the kernel helper it calls, its parameters and what it
    returns (``"optional_ref"``: a reference to the value or None; ``"ref"``:
    a reference that is never None; or an integer type name)."""
    name: str
    helper: str
    params: tuple[MethodParam, ...]
    returns: str

    def param(self, name: str) -> Optional[MethodParam]:
        for p in self.params:
            if p.name == name:
                return p
        return None


class MapKind(NamedTuple):
    """A kind of map a program declares at module level, e.g.
    ``counts: HashMap[u32, u64] = HashMap(max_entries=64)``.

    ``key`` says what the program indexes it with: ``"declared"`` (the
    annotation's first type), ``"index"`` (a u32 index: arrays), ``"socket"``
    (socket storage), ``"cgroup"`` (the cgroup the program runs for) or
    ``"none"`` (ring buffer).  ``key_type`` is the integer type the kernel
    keys the map with when the program does not declare one.
    ``signatures`` are its methods.  ``map_flags`` are always set;
    ``options`` are the constructor's keyword arguments."""
    python_name: str
    map_type: str
    key: str
    has_value: bool
    per_cpu: bool
    signatures: tuple[Method, ...]
    options: tuple[str, ...]
    doc: str
    map_flags: int = 0
    fixed_max_entries: Optional[int] = None   # the kernel requires this value
    key_type: Optional[str] = None
    # The value type the kind always has (a program declares none).
    fixed_value: Optional[str] = None
    # The key is a prefix: a struct whose first field is ``prefixlen: u32``
    # (the number of leading bits of the rest that count), then the data.
    prefix_key: bool = False
    # The value is an array of ``fixed_value``: (the option giving its
    # length, the length without it, the longest it may be).
    value_length: Optional[tuple[str, int, int]] = None
    # Index-keyed, but a slot holds nothing until it is filled (a device, a
    # program, a stack): the kernel lists only filled slots.
    starts_empty: bool = False

    @property
    def map_type_id(self) -> int:
        return MAP_TYPES[self.map_type]

    @property
    def methods(self) -> tuple[tuple[str, str], ...]:
        """(method, helper) of each method."""
        return tuple((m.name, m.helper) for m in self.signatures)

    def method(self, name: str) -> Optional[Method]:
        for m in self.signatures:
            if m.name == name:
                return m
        return None

    def helper_for(self, method: str) -> Optional[str]:
        found = self.method(method)
        return found.helper if found else None


def _element_methods(key: str, key_type: str) -> tuple[Method, ...]:
    """lookup, update and delete of a map keyed by ``key``."""
    by_key = MethodParam(key, "key", key_type)
    return (
        Method("lookup", "map_lookup_elem", (by_key,), "optional_ref"),
        Method("update", "map_update_elem",
               (by_key, MethodParam("value", "value", "V"),
                MethodParam("flags", "flags", "u64", BPF_ANY)), "i64"),
        Method("delete", "map_delete_elem", (by_key,), "i64"),
    )


_HASH_METHODS = _element_methods("key", "K")
# An array's elements always exist: there is nothing to delete.
_ARRAY_METHODS = _element_methods("index", "u32")[:2]
_SOCKET = MethodParam("sk", "sk", "socket")
# bpf_redirect_map's flags: the action when the slot is empty (low two bits).
_REDIRECT = Method("redirect", "redirect_map",
                   (MethodParam("index", "key_by_value", "u32"),
                    MethodParam("flags", "flags", "u64", 0)), "i32")

MAP_KINDS = {k.python_name: k for k in (
    MapKind("HashMap", "BPF_MAP_TYPE_HASH", "declared", True, False, _HASH_METHODS,
            ("max_entries", "no_prealloc"), "a hash table of up to max_entries keys"),
    MapKind("LruHashMap", "BPF_MAP_TYPE_LRU_HASH", "declared", True, False, _HASH_METHODS,
            ("max_entries",), "a hash table that evicts the least recently used key when full"),
    MapKind("PerCpuHashMap", "BPF_MAP_TYPE_PERCPU_HASH", "declared", True, True,
            _HASH_METHODS, ("max_entries", "no_prealloc"),
            "a hash table with one value per CPU for each key"),
    MapKind("ArrayMap", "BPF_MAP_TYPE_ARRAY", "index", True, False, _ARRAY_METHODS,
            ("max_entries",),
            "max_entries values indexed 0 .. max_entries - 1, all present from the start",
            key_type="u32"),
    MapKind("PerCpuArrayMap", "BPF_MAP_TYPE_PERCPU_ARRAY", "index", True, True,
            _ARRAY_METHODS, ("max_entries",),
            "an array with one value per CPU for each index", key_type="u32"),
    MapKind("SockStorage", "BPF_MAP_TYPE_SK_STORAGE", "socket", True, False, (
                Method("get", "sk_storage_get",
                       (_SOCKET, MethodParam("create", "create", "bool", False)),
                       "optional_ref"),
                Method("delete", "sk_storage_delete", (_SOCKET,), "i64")),
            ("clone",),
            "a value attached to each socket, freed with the socket "
            "(clone=True copies it to sockets accepted from a listener)",
            map_flags=BPF_F_NO_PREALLOC, fixed_max_entries=0, key_type="i32"),  # a socket fd
    MapKind("CgroupStorage", "BPF_MAP_TYPE_CGROUP_STORAGE", "cgroup", True, False,
            (Method("get", "get_local_storage", (), "ref"),), (),
            "a value for each cgroup the programs are attached to, shared by them",
            fixed_max_entries=0, key_type="u64"),   # the cgroup's id: one value for all attach types
    MapKind("RingBuf", "BPF_MAP_TYPE_RINGBUF", "none", False, False,
            (Method("output", "ringbuf_output",
                    (MethodParam("record", "record", "record"),
                     MethodParam("flags", "flags", "u64", 0)), "i64"),),
            ("max_entries",),
            "a buffer of records user space reads in order; max_entries is its size in "
            "bytes, a power of 2 and a multiple of the page size"),
    # -- tracing: bpftrace's hist(), the layout runtime/histogram.py reads
    MapKind("Histogram", "BPF_MAP_TYPE_ARRAY", "index", True, False,
            (Method("add", "map_lookup_elem", (MethodParam("value", "sample", "i64"),),
                    "None"),),
            (),
            "a power-of-two histogram: add(value) counts the value in its bucket (below "
            "0; 0; then [1, 2), [2, 4), [4, 8), ...); user space prints it as bars",
            fixed_max_entries=HISTOGRAM_BUCKETS, key_type="u32", fixed_value="u64"),
    # ---- packet programs (issue 15)
    MapKind("LpmTrie", "BPF_MAP_TYPE_LPM_TRIE", "declared", True, False, _HASH_METHODS,
            ("max_entries",),
            "longest-prefix match: a key is a @struct of prefixlen: u32 then the address; "
            "lookup(key) finds the longest stored prefix that contains key's address "
            "(key.prefixlen the address's full length)",
            map_flags=BPF_F_NO_PREALLOC, prefix_key=True),
    # A device map's values are interface indexes, which user space stores
    # (resolved in its network namespace); programs only redirect to them.
    MapKind("DevMap", "BPF_MAP_TYPE_DEVMAP", "index", True, False, (_REDIRECT,),
            ("max_entries",),
            "network devices in slots 0 .. max_entries - 1 (user space stores each one's "
            "interface index); redirect(index) sends an XDP packet out of one",
            key_type="u32", fixed_value="u32", starts_empty=True),
    # Filled by user space with the object's programs (of the same hook
    # kind); a program jumps to one with tail_call(ctx, progs, index).
    MapKind("ProgArray", "BPF_MAP_TYPE_PROG_ARRAY", "index", True, False, (),
            ("max_entries",),
            "programs in slots 0 .. max_entries - 1 for tail_call(ctx, progs, index) (user "
            "space stores each one, e.g. coll.maps['progs'][1] = coll.programs['parse_ip'])",
            key_type="u32", fixed_value="u32", starts_empty=True),
    # -- tracing: filled by get_stackid(ctx, stacks, flags), read by user space
    MapKind("StackTraceMap", "BPF_MAP_TYPE_STACK_TRACE", "index", True, False, (),
            ("max_entries", "depth"),
            "stacks by id, each the instruction pointers of its frames, innermost first: "
            "get_stackid(ctx, stacks, flags) stores the current one and gives its id; "
            f"depth (at most {PERF_MAX_STACK_DEPTH}, the default) is how many frames a "
            "stack keeps",
            key_type="u32", fixed_value="u64",
            value_length=("depth", PERF_MAX_STACK_DEPTH, PERF_MAX_STACK_DEPTH),
            starts_empty=True),
    MapKind("DevMapHash", "BPF_MAP_TYPE_DEVMAP_HASH", "index", True, False, (_REDIRECT,),
            ("max_entries",),
            "network devices under any u32 keys (say, their interface indexes), up to "
            "max_entries of them; redirect(index) sends an XDP packet out of one",
            key_type="u32", fixed_value="u32", starts_empty=True),
)}

# -------------------------------------------------- lost records (live output)
#
# The kernel counts no ring buffer record it had no room for: ringbuf_output
# returns -EAGAIN and the record is gone.  So each RingBuf gets a hidden u64
# global in .bss that the compiled output() increments when the helper
# fails; the runtime reads it by this name (and lists it with no global).
#
# A struct a program puts in a RingBuf is in BTF only if some variable has
# its type, so each gets a hidden zeroed global of that type too, which the
# runtime decodes records with.  Globals of this prefix are the compiler's.
HIDDEN_GLOBAL_PREFIX = "__pybpfc_"
LOST_RECORDS_PREFIX = HIDDEN_GLOBAL_PREFIX + "lost_"
RECORD_TYPE_PREFIX = HIDDEN_GLOBAL_PREFIX + "record_"


def lost_records_global(map_name: str) -> str:
    """The hidden global counting ``map_name``'s records lost for room."""
    return LOST_RECORDS_PREFIX + map_name


def record_type_global(map_name: str, index: int) -> str:
    """The hidden global whose type is the ``index``-th struct (from 0)
    that the program puts in ring buffer ``map_name``."""
    return f"{RECORD_TYPE_PREFIX}{map_name}_{index}"
