"""The kernel's structs, by name: ``from pybpfc.vmlinux import task_struct``.

Any name imports, so a program imports without a kernel; the compiler
resolves the names against the build machine's kernel BTF
(``/sys/kernel/btf/vmlinux``) and refuses a struct the kernel lacks.  In a
program, ``task_struct(addr)`` takes a kernel address as a pointer to a
task_struct whose fields are probe-read.
"""
from __future__ import annotations

from typing import Any


class KernelStruct:
    """A kernel struct's stand-in: its fields exist only in a hook."""

    kernel_name = ""

    def __init__(self, address: int, /) -> None:
        raise self._outside_a_hook()

    def __int__(self) -> int:
        """``u64(task)``: the address the pointer holds."""
        raise self._outside_a_hook()

    def _outside_a_hook(self) -> RuntimeError:
        return RuntimeError(f"struct {self.kernel_name} is read only by a hook running in the "
                            "kernel")


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    return type(name, (KernelStruct,), {"kernel_name": name, "__module__": __name__})
