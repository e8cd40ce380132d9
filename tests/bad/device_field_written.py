# expect: 6:9 ctx.access is read-only in a @cgroup_device hook
from pybpfc import ALLOW, DeviceContext, cgroup_device

@cgroup_device
def f(ctx: DeviceContext) -> int:
    ctx.access = 0
    return ALLOW
