"""The kernel helpers a hook may call, as ``pybpfc.lang`` exports them:
stubs that type checkers read and that refuse to run outside a hook."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .lang import (SkBuff, SockAddrContext, SockContext, SockOpsContext, SysctlContext,
                       XdpContext)
    # Without ``pybpfc stubs`` this is Any; with them, the kernel's fields.
    from .vmlinux import task_struct


def _helper_outside_a_hook(name: str) -> RuntimeError:
    return RuntimeError(f"{name}() is a kernel helper: it runs only inside a compiled hook")


def ktime_get_ns() -> int:
    raise _helper_outside_a_hook("ktime_get_ns")


def get_prandom_u32() -> int:
    raise _helper_outside_a_hook("get_prandom_u32")


def get_current_pid_tgid() -> int:
    raise _helper_outside_a_hook("get_current_pid_tgid")


def get_current_uid_gid() -> int:
    raise _helper_outside_a_hook("get_current_uid_gid")


def get_current_cgroup_id() -> int:
    raise _helper_outside_a_hook("get_current_cgroup_id")


def get_socket_cookie(ctx: object, /) -> int:
    raise _helper_outside_a_hook("get_socket_cookie")


def get_netns_cookie(ctx: object, /) -> int:
    raise _helper_outside_a_hook("get_netns_cookie")


def sysctl_get_name(ctx: SysctlContext, buf: bytearray, flags: int, /) -> int:
    raise _helper_outside_a_hook("sysctl_get_name")


def sysctl_get_current_value(ctx: SysctlContext, buf: bytearray, /) -> int:
    raise _helper_outside_a_hook("sysctl_get_current_value")


def sysctl_get_new_value(ctx: SysctlContext, buf: bytearray, /) -> int:
    raise _helper_outside_a_hook("sysctl_get_new_value")


def sysctl_set_new_value(ctx: SysctlContext, buf: bytearray, length: int, /) -> int:
    raise _helper_outside_a_hook("sysctl_set_new_value")


def get_retval() -> int:
    raise _helper_outside_a_hook("get_retval")


def set_retval(value: int, /) -> int:
    raise _helper_outside_a_hook("set_retval")


def get_current_comm(buf: bytearray, /) -> int:
    raise _helper_outside_a_hook("get_current_comm")


def skb_load_bytes(ctx: SkBuff, offset: int, buf: bytearray, /) -> int:
    raise _helper_outside_a_hook("skb_load_bytes")


def get_socket_uid(ctx: SkBuff, /) -> int:
    raise _helper_outside_a_hook("get_socket_uid")


def setsockopt(sk: SockContext | SockOpsContext, level: int, optname: int, buf: bytearray,
               /) -> int:
    raise _helper_outside_a_hook("setsockopt")


def getsockopt(sk: SockContext | SockOpsContext, level: int, optname: int, buf: bytearray,
               /) -> int:
    raise _helper_outside_a_hook("getsockopt")


def bind(ctx: SockAddrContext, addr: bytearray, /) -> int:
    raise _helper_outside_a_hook("bind")


# -- tracing helpers


def get_smp_processor_id() -> int:
    raise _helper_outside_a_hook("get_smp_processor_id")


def get_current_task() -> task_struct:
    raise _helper_outside_a_hook("get_current_task")


def get_current_task_btf() -> task_struct:
    raise _helper_outside_a_hook("get_current_task_btf")


def ktime_get_boot_ns() -> int:
    raise _helper_outside_a_hook("ktime_get_boot_ns")


def probe_read_user(buf: bytearray, src: int, /) -> int:
    raise _helper_outside_a_hook("probe_read_user")


def probe_read_kernel(buf: bytearray, src: int, /) -> int:
    raise _helper_outside_a_hook("probe_read_kernel")


def probe_read_user_str(buf: bytearray, src: int, /) -> int:
    raise _helper_outside_a_hook("probe_read_user_str")


def probe_read_kernel_str(buf: bytearray, src: int, /) -> int:
    raise _helper_outside_a_hook("probe_read_kernel_str")


def sock_ops_cb_flags_set(ctx: SockOpsContext, flags: int, /) -> int:
    raise _helper_outside_a_hook("sock_ops_cb_flags_set")


# -- packet programs (issue 15)


def skb_store_bytes(ctx: SkBuff, offset: int, buf: bytearray, flags: int, /) -> int:
    raise _helper_outside_a_hook("skb_store_bytes")


def l3_csum_replace(ctx: SkBuff, offset: int, old: int, new: int, flags: int, /) -> int:
    raise _helper_outside_a_hook("l3_csum_replace")


def l4_csum_replace(ctx: SkBuff, offset: int, old: int, new: int, flags: int, /) -> int:
    raise _helper_outside_a_hook("l4_csum_replace")


def redirect(ifindex: int, flags: int, /) -> int:
    raise _helper_outside_a_hook("redirect")


def skb_pull_data(ctx: SkBuff, length: int, /) -> int:
    raise _helper_outside_a_hook("skb_pull_data")


def xdp_adjust_head(ctx: XdpContext, delta: int, /) -> int:
    raise _helper_outside_a_hook("xdp_adjust_head")


def xdp_adjust_tail(ctx: XdpContext, delta: int, /) -> int:
    raise _helper_outside_a_hook("xdp_adjust_tail")
