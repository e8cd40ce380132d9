"""BPF iterators (``iter/task``, ...): the program runs once per kernel
object (each task, ...) when user space reads the iterator, and what it
writes with ``bpf_seq_printf``/``bpf_seq_write`` is what the read returns.
Attaching makes a link (BPF_LINK_CREATE, BPF_TRACE_ITER); each
:meth:`IteratorLink.read` is one pass, through a fresh fd from
BPF_ITER_CREATE."""
from __future__ import annotations

import os

from pybpfc import abi

from . import bpf
from .bpf_tracing import iter_create
from .errors import BpfError
from .tracing_link import TracingLink


class IteratorLink(TracingLink):
    """An iterator program attached; ``read()`` runs it over every object."""

    def read(self) -> bytes:
        """One pass of the iterator: everything the program wrote."""
        if self.fd < 0:
            raise BpfError(f"{self.what}: the iterator link is closed")
        fd = iter_create(self.fd, what=self.what)
        chunks: list[bytes] = []
        try:
            while True:
                try:
                    chunk = os.read(fd, 1 << 16)
                except InterruptedError:
                    continue
                except OSError as err:
                    raise BpfError(f"{self.what}: reading the iterator failed: "
                                   f"{err.strerror}") from None
                if not chunk:
                    return b"".join(chunks)
                chunks.append(chunk)
        finally:
            os.close(fd)


def attach_iterator(prog_fd: int, program_name: str, section: str,
                    kind: abi.ProgramKind) -> IteratorLink:
    target = kind.target_in(section)
    what = f"program '{program_name}' on iterator {target}"
    fd = bpf.link_create(prog_fd, 0, bpf.BPF_TRACE_ITER, what=what)
    return IteratorLink(program_name, "iterator", target, link_fds=[fd])
