"""A helper fills a local buffer, and the program reads one byte of it.
The tests break it two ways: the helper is told the buffer holds 100 bytes
(pybpfc passes its real length), or one store to the buffer is moved 520
bytes down the stack (pybpfc refuses locals past the 512 bytes BPF has).
Unbroken, it is the program tests/cli/test_objdump_html.py shows."""
from pybpfc import ALLOW, REJECT, SysctlContext, cgroup_sysctl, sysctl_get_current_value


@cgroup_sysctl
def first_byte(ctx: SysctlContext) -> int:
    text = bytearray(8)
    sysctl_get_current_value(ctx, text)
    if text[0] == 0:
        return REJECT
    return ALLOW
