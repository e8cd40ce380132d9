"""One kernel object held through a file descriptor that closes itself:
the shared lifetime of maps and programs."""
from __future__ import annotations

import os
from typing import TypeVar

from . import bpf

T = TypeVar("T", bound="Closing")


class Closing:
    """Something a ``with`` block closes at its end."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self: T) -> T:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class OwnedFd(Closing):
    """``fd`` is this process's handle; ``what`` names the object in errors."""

    fd: int

    @property
    def what(self) -> str:
        raise NotImplementedError

    def pin(self, path: "os.PathLike[str] | str") -> None:
        bpf.obj_pin(self.fd, path, what=self.what)

    def close(self) -> None:
        if self.fd >= 0:
            bpf.close(self.fd)
            self.fd = -1
