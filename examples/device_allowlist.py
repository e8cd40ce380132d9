"""Device access as container runtimes grant it: a task in the cgroup may
use the harmless character devices (null, zero, full, random, urandom,
tty) and nothing else; everything else, /dev/mem (1:1) among it, is
refused with EPERM.  `refused` counts the refusals."""
from typing import Final

from pybpfc import (ALLOW, BPF_DEVCG_ACC_MKNOD, BPF_DEVCG_DEV_CHAR, REJECT, DeviceContext,
                    cgroup_device, u64)

MEM_MAJOR: Final = 1       # /dev/null 1:3, /dev/zero 1:5, /dev/full 1:7, ...
TTY_MAJOR: Final = 5       # /dev/tty 5:0

refused: u64 = 0    # how many requests were refused, read by user space


def harmless(major: int, minor: int) -> bool:
    if major == MEM_MAJOR:
        # null, zero, full, random, urandom: not mem (1), kmem (2) or port (4)
        return minor == 3 or minor == 5 or minor == 7 or minor == 8 or minor == 9
    return major == TTY_MAJOR and minor == 0


@cgroup_device
def device_allowlist(ctx: DeviceContext) -> int:
    global refused
    if ctx.device_type == BPF_DEVCG_DEV_CHAR and ctx.access & BPF_DEVCG_ACC_MKNOD == 0:
        if harmless(ctx.major, ctx.minor):
            return ALLOW
    refused += 1
    return REJECT
