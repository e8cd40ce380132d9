# expect: 10:8 `seen` is never None, so this test is always False
from pybpfc import ALLOW, REJECT, CgroupStorage, SockContext, cgroup_sock_create, u64

per_cgroup: CgroupStorage[u64] = CgroupStorage()


@cgroup_sock_create
def create(ctx: SockContext) -> int:
    seen = per_cgroup.get()     # every attached cgroup has its value
    if seen is None:
        return REJECT
    return ALLOW
