# expect: 5:1 the global name 'refusé' is not ASCII: the kernel loads no object whose BTF holds a name other than ASCII letters, digits and '_'
# A valid Python name; the kernel refuses it in the object's BTF (VAR ... Invalid name).
from pybpfc import ALLOW, SockoptContext, cgroup_setsockopt, u64

refusé: u64 = 0


@cgroup_setsockopt
def guard(ctx: SockoptContext) -> int:
    global refusé
    refusé += 1
    return ALLOW
