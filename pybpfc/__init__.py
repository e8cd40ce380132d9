"""pybpfc: write Linux BPF hooks as typed Python functions.

Importing this package gives a program the decorators, integer types,
context types and constants it uses.  It never imports the compiler.
"""
from .lang import (get_current_cgroup_id, get_current_pid_tgid, get_current_uid_gid,
                   get_netns_cookie, get_prandom_u32, get_retval, get_socket_cookie,
                   ktime_get_ns, set_retval, sysctl_get_current_value, sysctl_get_name,
                   sysctl_get_new_value, sysctl_set_new_value)
from .lang import (ALLOW, DROP, KEEP_ALL, PAGE_SIZE, REJECT, OptvalWindow, SkBuff,
                   SockContext, SockoptContext, SysctlContext, cgroup_getsockopt,
                   cgroup_post_bind4, cgroup_post_bind6, cgroup_setsockopt,
                   cgroup_sock_create, cgroup_sock_release, cgroup_sysctl, htonl, htons,
                   i8, i16, i32, i64, ntohl, ntohs, socket_filter, struct, u8, u16, u32,
                   u64)

__version__ = "0.1.0"

__all__ = [
    "ALLOW", "DROP", "KEEP_ALL", "PAGE_SIZE", "REJECT", "OptvalWindow", "SkBuff",
    "SockContext", "SockoptContext", "SysctlContext", "cgroup_getsockopt",
    "cgroup_post_bind4", "cgroup_post_bind6", "cgroup_setsockopt", "cgroup_sock_create",
    "cgroup_sock_release", "cgroup_sysctl", "htonl", "htons", "i8", "i16", "i32", "i64",
    "ntohl", "ntohs", "socket_filter", "struct", "u8", "u16", "u32", "u64",
    # kernel helpers
    "get_current_cgroup_id", "get_current_pid_tgid", "get_current_uid_gid", "get_netns_cookie",
    "get_prandom_u32", "get_retval", "get_socket_cookie", "ktime_get_ns", "set_retval",
    "sysctl_get_current_value", "sysctl_get_name", "sysctl_get_new_value",
    "sysctl_set_new_value",
]
