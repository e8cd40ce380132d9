# expect: 7:5 sysctl_get_name() is not available in a @cgroup_setsockopt hook
from pybpfc import ALLOW, SockoptContext, cgroup_setsockopt, sysctl_get_name


@cgroup_setsockopt
def f(ctx: SockoptContext) -> int:
    sysctl_get_name(ctx, bytearray(8), 0)
    return ALLOW
