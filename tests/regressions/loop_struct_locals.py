# Fuzzer finding: a for loop inside a while loop put its counter on the stack
# outside the entry block, and LLVM aborted the process.
# kernel refuses: infinite loop detected
from pybpfc import ALLOW, REJECT, SockContext, cgroup_sock_release, get_current_pid_tgid, get_retval, i32, i64, i8, set_retval, struct, u16, u32, u64, u8
@struct
class Rec1:
    f2: i32
    f4: u64
    f5: u8
@struct
class Rec6:
    f7: u16
g8: u64 = 1
@cgroup_sock_release
def hook25(ctx: SockContext) -> int:
    s9 = Rec1()
    if (ctx.mark):
            pass
    count16: u32 = 0
    while count16 < 2:
        if bool((s9.f2 if (ctx.rx_queue_mapping != 2147483647) else ctx.rx_queue_mapping)):
            for idx17 in range(-3, 3, 2):
                s18 = Rec1()
                if (s9.f4 >= g8):
                    continue
        elif ((not False) or (get_retval() and True)):
            for idx19 in range(-2, 4, -1):
                ctx.mark //= (u32(idx19) // min(ctx.state, 1))
    return REJECT if ((idx17 > 0) or (s18.f5 > s18.f5)) else ALLOW
