"""How the ``pybpfc`` command ends: its exit statuses, and the error a
command raises for a mistake the user can fix.  Shared by ``cli`` (the
compiler's commands and ``main``) and ``cli_runtime`` (the runtime's
commands), which do not import each other."""
from __future__ import annotations

EXIT_OK = 0
EXIT_USER_ERROR = 1
EXIT_INTERNAL_ERROR = 2
EXIT_INTERRUPTED = 130      # 128 + SIGINT, as a shell reports it
EXIT_BROKEN_PIPE = 141      # 128 + SIGPIPE


class UserError(Exception):
    """A mistake the user can fix; its text is the whole message to print."""

    @classmethod
    def at(cls, path: object, message: str) -> "UserError":
        return cls(f"{path}: error: {message}")
