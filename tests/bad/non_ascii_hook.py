# expect: 6:5 the hook name 'gardé' is not ASCII
from pybpfc import ALLOW, SockoptContext, cgroup_setsockopt


@cgroup_setsockopt
def gardé(ctx: SockoptContext) -> int:
    return ALLOW
