# expect: 6:11 the parameter name 'contéxt' is not ASCII
from pybpfc import ALLOW, SockoptContext, cgroup_setsockopt


@cgroup_setsockopt
def guard(contéxt: SockoptContext) -> int:
    return ALLOW
