# expect: 12:16 sock.sk_wq_raw shares its bytes with sock.sk_wq (a union in the kernel)
from pybpfc import RawTracepointArgs, raw_tracepoint, u64
from pybpfc.vmlinux import sock

LICENSE = "GPL"


@raw_tracepoint("sys_enter")
def f(ctx: RawTracepointArgs) -> int:
    sk = sock(ctx.args[0])
    a = u64(sk.sk_wq)
    b = u64(sk.sk_wq_raw)
    return 0
