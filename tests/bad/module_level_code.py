# expect: 4:1 module-level code is never run
from pybpfc import ALLOW, REJECT, SockoptContext, SysctlContext, SockContext, cgroup_sysctl, cgroup_setsockopt, cgroup_getsockopt, u8, u32, u64, i32

open("/tmp/pybpfc-should-not-exist", "w")
