# expect: 12:18 the key is a Flow variable here, not u32
from pybpfc import ALLOW, HashMap, SockContext, cgroup_sock_create, struct, u32, u64

@struct
class Flow:
    port: u32

flows: HashMap[Flow, u64] = HashMap(max_entries=16)

@cgroup_sock_create
def f(ctx: SockContext) -> int:
    flows.delete(ctx.protocol)
    return ALLOW
