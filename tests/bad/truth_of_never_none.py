# expect: 9:12 this reference is never None, so its test is always True
from pybpfc import ALLOW, REJECT, CgroupStorage, SockContext, cgroup_sock_create, u64

per_cgroup: CgroupStorage[u64] = CgroupStorage()


@cgroup_sock_create
def create(ctx: SockContext) -> int:
    if not per_cgroup.get():
        return REJECT
    return ALLOW
