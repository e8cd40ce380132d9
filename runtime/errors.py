"""Errors raised by pybpfc's runtime.

Every message starts with the object it is about (``map 'counts': ...``,
``program 'deny': ...``, ``link: ...``), names the failed ``bpf(2)``
command and errno, and adds a hint for the errnos people usually hit::

    map 'counts': BPF_MAP_CREATE failed: Invalid argument (EINVAL) -- check ...

A verifier rejection is a :class:`VerifierError`; its message explains the
refusal at the program's source line, and ``.log`` holds the whole log.
"""
from __future__ import annotations

import errno as _errno
import os
from typing import TYPE_CHECKING, Any, Callable, Optional

from pybpfc.abi.system import ENOTSUPP

if TYPE_CHECKING:
    from .spec import ProgramSpec
    from .verifier import Explanation

    # pybpfc.runtime.verifier.explain: (log, program) -> Explanation.  It is
    # handed in, not imported: the verifier's modules read specs, which
    # import this module.
    Explain = Callable[[str, Optional[ProgramSpec]], Explanation]

__all__ = ["BpfError", "SyscallError", "VerifierError", "CgroupError",
           "ENOTSUPP", "errno_name", "describe_errno", "hint_for"]

# The kernel's own "not supported" errno (include/linux/errno.h).  It is not
# a POSIX errno, so libc has no name or text for it, yet bpf(2) returns it,
# for example BPF_PROG_TEST_RUN on a program type that cannot be test-run.


class BpfError(Exception):
    """Base class of every error the runtime raises."""


class CgroupError(BpfError):
    """A cgroup could not be found, opened, created, joined or removed."""


def errno_name(number: int) -> str:
    """``EINVAL`` for 22; ``ENOTSUPP`` for the kernel-internal 524."""
    if number == ENOTSUPP:
        return "ENOTSUPP"
    return _errno.errorcode.get(number, f"errno {number}")


def describe_errno(number: int) -> str:
    """``Invalid argument (EINVAL)``."""
    if number == ENOTSUPP:
        text = "Operation is not supported"
    else:
        text = os.strerror(number)
    return f"{text} ({errno_name(number)})"


# (command, errno) -> hint; a command of None applies to every command that
# has no hint of its own for that errno.
_HINTS: dict[tuple[Optional[str], int], str] = {
    (None, _errno.EPERM): "needs root or CAP_BPF (some program types also need "
                          "CAP_NET_ADMIN or CAP_PERFMON)",
    ("BPF_PROG_ATTACH", _errno.EPERM): "needs root or CAP_BPF and CAP_NET_ADMIN; or the "
                                       "cgroup already has programs for this attach type "
                                       "attached with different flags (BPF_F_ALLOW_MULTI, "
                                       "BPF_F_ALLOW_OVERRIDE or none), or an ancestor "
                                       "forbids overriding",
    ("BPF_LINK_CREATE", _errno.EPERM): "needs root or CAP_BPF and CAP_NET_ADMIN; or the "
                                       "cgroup has a program attached without "
                                       "BPF_F_ALLOW_MULTI for this attach type",
    (None, _errno.E2BIG): "the request carries bytes this kernel does not understand "
                          "(an attribute newer than the kernel) or is too large",
    ("BPF_MAP_UPDATE_ELEM", _errno.E2BIG): "the map is full (max_entries reached)",
    ("BPF_PROG_LOAD", _errno.E2BIG): "the program is too large for this kernel, or the "
                                     "request carries attributes this kernel does not know",
    ("BPF_OBJ_GET", _errno.ENOENT): "nothing is pinned at this path (is it inside a "
                                    "mounted bpffs, and was the object pinned?)",
    ("BPF_OBJ_PIN", _errno.ENOENT): "the directory to pin into does not exist",
    ("BPF_OBJ_PIN", _errno.EPERM): "pin paths must be inside a mounted bpf filesystem "
                                   "(mount -t bpf bpf DIR); or this needs root or CAP_BPF",
    ("BPF_OBJ_PIN", _errno.EEXIST): "something is already pinned at this path",
    ("BPF_OBJ_GET", _errno.EPERM): "the path is not inside a mounted bpf filesystem; or "
                                   "this needs root or CAP_BPF",
    ("BPF_OBJ_GET", _errno.EINVAL): "the path is not a pinned BPF object",
    ("BPF_MAP_UPDATE_ELEM", _errno.EEXIST): "the key already exists (BPF_NOEXIST)",
    ("BPF_MAP_UPDATE_ELEM", _errno.ENOENT): "the key does not exist (BPF_EXIST)",
    ("BPF_MAP_UPDATE_ELEM", _errno.EPERM): "the map is frozen or read-only from user space; "
                                           "or this needs root or CAP_BPF",
    ("BPF_MAP_CREATE", _errno.EINVAL): "check key size, value size, max_entries and flags "
                                       "for this map type (and the BTF ids, if given)",
    ("BPF_PROG_ATTACH", _errno.EINVAL): "the attach type does not fit the program type or "
                                        "the program's expected_attach_type",
    ("BPF_LINK_CREATE", _errno.EINVAL): "the attach type does not fit the program type or "
                                        "the program's expected_attach_type",
    ("BPF_PROG_DETACH", _errno.ENOENT): "that program is not attached there with this "
                                        "attach type",
    ("BPF_PROG_LOAD", _errno.EINVAL): "the program type, expected_attach_type, license or "
                                      "BTF info is not accepted; see the verifier log",
    ("BPF_PROG_LOAD", _errno.EACCES): "the verifier rejected the program; see the log",
    ("BPF_BTF_LOAD", _errno.EINVAL): "the BTF data is malformed; see the BTF log",
    (None, _errno.EBADF): "the file descriptor is closed or is not the kind of BPF object "
                          "this command expects",
    (None, _errno.ENOMEM): "out of memory (on kernels before 5.11 also RLIMIT_MEMLOCK)",
    (None, _errno.EFAULT): "a buffer passed to the kernel is too small or invalid",
    (None, ENOTSUPP): "this kernel does not support the operation for this object type "
                      "(for example BPF_PROG_TEST_RUN for this program type)",
    (None, _errno.ENOSYS): "this kernel has no bpf(2) system call",
    (None, _errno.ENOSPC): "a result buffer (such as the verifier log) was too small",
    ("BPF_RAW_TRACEPOINT_OPEN", _errno.ENOENT): "this kernel has no tracepoint of that name",
    ("BPF_LINK_CREATE", _errno.EACCES): "for a tracepoint: the program reads past the end "
                                        "of the tracepoint's record",
    ("perf_event_open", _errno.ENOENT): "this kernel has no such event (or PMU, or the "
                                        "probed file is gone)",
    ("perf_event_open", _errno.EINVAL): "the kernel refuses the event's settings (a probe "
                                        "offset outside the file, a rate too high, ...)",
    ("perf_event_open", _errno.EACCES): "kernel.perf_event_paranoid forbids it; needs root "
                                        "or CAP_PERFMON",
    ("perf_event_open", _errno.EPERM): "needs root or CAP_PERFMON (or a lower "
                                       "kernel.perf_event_paranoid)",
}


def hint_for(command: str, number: int) -> Optional[str]:
    """A short piece of advice for ``command`` failing with ``number``."""
    return _HINTS.get((command, number)) or _HINTS.get((None, number))


class SyscallError(BpfError):
    """A ``bpf(2)`` command failed.

    ``what`` names the object (``map 'counts'``, ``program 'deny'``,
    ``link``); ``command`` is the ``enum bpf_cmd`` name; ``errno`` the error
    number; ``log`` the kernel's log (verifier or BTF), possibly empty.
    """

    def __init__(self, command: str, errno: int, what: str, log: str = "") -> None:
        self.command = command
        self.errno = errno
        self.what = what
        self.log = log
        self.hint = hint_for(command, errno)
        super().__init__(self._message())

    @property
    def errno_name(self) -> str:
        return errno_name(self.errno)

    def _message(self) -> str:
        message = f"{self.what}: {self.command} failed: {describe_errno(self.errno)}"
        if self.hint:
            message += f" -- {self.hint}"
        summary = self.log_summary()
        if summary:
            message += f"\n  log: {summary}"
        return message

    def log_summary(self) -> str:
        """The line of the log that says what went wrong (the last line that
        is not one of the verifier's statistics lines), or ""."""
        for line in reversed(self.log.splitlines()):
            line = line.strip()
            if not line or _is_statistics(line):
                continue
            return line
        return ""

    def __reduce__(self) -> tuple[Any, ...]:  # keep pickling (e.g. pytest-xdist) working
        return (type(self), (self.command, self.errno, self.what, self.log))


def _is_statistics(line: str) -> bool:
    return (line.startswith("processed ") or line.startswith("verification time")
            or line.startswith("stack depth"))


class VerifierError(SyscallError):
    """``BPF_PROG_LOAD`` failed; ``log`` holds the verifier's whole log.

    A loader that knows the program re-raises it ``explained``: with the
    program's spec and ``pybpfc.runtime.verifier.explain``, the message
    explains the refusal at the Python line that caused it, with the
    verifier's own words, why and what to write instead, and
    ``explanation`` holds that as data.  It is worked out when first asked
    for (a refused loop's log can be a hundred megabytes).  Without them
    the message shows the verifier's complaint alone."""

    def __init__(self, command: str, errno: int, what: str, log: str = "",
                 program: Optional["ProgramSpec"] = None,
                 explain: Optional["Explain"] = None) -> None:
        self.program = program
        self._explain = explain
        self._explanation: Optional["Explanation"] = None
        self._rendered: Optional[str] = None
        super().__init__(command, errno, what, log)

    def explained(self, program: "ProgramSpec", explain: "Explain") -> "VerifierError":
        """The same refusal, told at the program's source lines."""
        return VerifierError(self.command, self.errno, self.what, self.log, program, explain)

    def _message(self) -> str:
        return ""                        # rendered on demand: see __str__

    @property
    def explanation(self) -> Optional["Explanation"]:
        if self._explanation is None and self._explain is not None and self.log.strip():
            self._explanation = self._explain(self.log, self.program)
        return self._explanation

    def log_lines(self) -> int:
        return self.log.count("\n") + (0 if self.log.endswith("\n") else 1)

    def describe(self, full_log: str) -> str:
        """The message, ending with ``full_log``: where the whole log is."""
        if not self.log.strip():
            return super()._message()
        header = f"{self.what}: the verifier rejected it ({describe_errno(self.errno)})"
        explanation = self.explanation
        body = explanation.render() if explanation is not None else \
            f"  verifier: {self.log_summary()}"
        return f"{header}\n{body}\n  ({full_log})"

    def __str__(self) -> str:
        if self._rendered is None:
            self._rendered = self.describe(
                f"the full verifier log, {self.log_lines()} lines, is in the error's .log")
        return self._rendered

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.command, self.errno, self.what, self.log, self.program,
                             self._explain))
