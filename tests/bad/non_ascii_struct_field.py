# expect: 7:5 the field name 'ché' is not ASCII
from pybpfc import ALLOW, ArrayMap, SockoptContext, cgroup_setsockopt, struct, u64


@struct
class Pair:
    ché: u64


seen: ArrayMap[Pair] = ArrayMap(max_entries=1)


@cgroup_setsockopt
def guard(ctx: SockoptContext) -> int:
    return ALLOW
