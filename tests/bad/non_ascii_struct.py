# expect: 6:7 the struct name 'Pairé' is not ASCII
from pybpfc import ALLOW, ArrayMap, SockoptContext, cgroup_setsockopt, struct, u64


@struct
class Pairé:
    a: u64


seen: ArrayMap[Pairé] = ArrayMap(max_entries=1)


@cgroup_setsockopt
def guard(ctx: SockoptContext) -> int:
    return ALLOW
