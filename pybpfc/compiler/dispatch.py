"""Tables from a node or record type to the function that handles it, as
each walk over a program (the checker, lowering, the interpreter) keeps
them, and the decorator that fills one."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:    # (typing's objects are not made at run time: imports stay quick)
    from typing import TypeVar
    _F = TypeVar("_F", bound=Callable[..., Any])


def registrar(table: dict[type, Any]) -> Callable[..., Callable[["_F"], "_F"]]:
    """``register = registrar(table)``: then ``@register(A, B)`` puts the
    function it decorates in ``table`` under A and under B."""
    def register(*kinds: type) -> Callable[[_F], _F]:
        def add(handler: _F) -> _F:
            for kind in kinds:
                table[kind] = handler
            return handler
        return add
    return register
