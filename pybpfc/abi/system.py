"""Linux numbers outside ``linux/bpf.h`` that the runtime, the benchmarks and
the tests hand to the kernel: filesystem magic, prctl options, namespace
flags, socket options and ioctls.  ``HEADERS`` says which uapi header
defines each (the tests compare them with Debian's); the few without a
uapi header say where they come from."""

# <linux/magic.h>: statfs(2)'s f_type of a bpffs
BPF_FS_MAGIC = 0xCAFE4A11

# <linux/prctl.h>, <linux/securebits.h>
PR_SET_PDEATHSIG = 1          # a signal when the parent thread dies
PR_SET_SECUREBITS = 28
SECBIT_NOROOT = 1 << 0        # uid 0 gets no capabilities from exec
SECBIT_NOROOT_LOCKED = 1 << 1

# <linux/sched.h>: unshare(2)/setns(2) flag of a network namespace
CLONE_NEWNET = 0x40000000

# <asm-generic/socket.h>: SOL_SOCKET options Python's socket module lacks
SO_NO_CHECK = 11              # send UDP without a checksum
SO_DETACH_BPF = 27            # the same value as SO_DETACH_FILTER
SO_ATTACH_BPF = 50
SO_BINDTOIFINDEX = 62
SO_NETNS_COOKIE = 71

# <linux/sockios.h>, <linux/if.h>: a device's flags and MTU
SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
SIOCSIFMTU = 0x8922
IFF_UP = 1 << 0

# include/linux/errno.h (kernel-internal, not in the uapi): what bpf(2)
# returns for an operation a map or program type lacks
ENOTSUPP = 524

# getppid(2)'s number per architecture (platform.machine() spelling): a
# system call a test's child makes and nothing else in it does
GETPPID_SYSCALL_NUMBERS = {"x86_64": 110, "amd64": 110, "aarch64": 173, "arm64": 173,
                           "riscv64": 173}

HEADERS = {
    "linux/magic.h": ("BPF_FS_MAGIC",),
    "linux/prctl.h": ("PR_SET_PDEATHSIG", "PR_SET_SECUREBITS"),
    "linux/securebits.h": ("SECBIT_NOROOT", "SECBIT_NOROOT_LOCKED"),
    "linux/sched.h": ("CLONE_NEWNET",),
    "asm-generic/socket.h": ("SO_NO_CHECK", "SO_DETACH_BPF", "SO_ATTACH_BPF",
                             "SO_BINDTOIFINDEX", "SO_NETNS_COOKIE"),
    "linux/sockios.h": ("SIOCGIFFLAGS", "SIOCSIFFLAGS", "SIOCSIFMTU"),
    "linux/if.h": ("IFF_UP",),
}
