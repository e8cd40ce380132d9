"""An element of a list in a map value, at an index from the context.
pybpfc tests the index against the list's length; the test makes that test
compare with numbers 25 times too large."""
from pybpfc import ALLOW, HashMap, SockContext, cgroup_sock_create, struct, u32, u64


@struct
class Seen:
    sockets: u64
    by_type: list[u32] = [0] * 8


by_protocol: HashMap[u32, Seen] = HashMap(max_entries=64)


@cgroup_sock_create
def count(ctx: SockContext) -> int:
    seen = by_protocol.lookup(ctx.protocol)
    if seen is None:
        return ALLOW
    kind = ctx.type
    seen.value.by_type[kind] += 1
    return ALLOW
