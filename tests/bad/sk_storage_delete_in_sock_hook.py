# expect: 9:11 notes.delete() is not available in a @cgroup_sock_release hook
from pybpfc import ALLOW, SockContext, SockStorage, cgroup_sock_release, u32

notes: SockStorage[u32] = SockStorage()


@cgroup_sock_release
def f(ctx: SockContext) -> int:
    notes.delete(ctx)
    return ALLOW
