"""Plain data classes, made without generating code.

The compiler's syntax tree, types and symbols and the hook table are about
eighty small classes of named fields.  The standard library's dataclasses
writes each class's methods as source text and compiles it, 0.3 to 1 ms a
class: a fifth of the whole time of ``pybpfc build``.  :func:`record` makes
the same classes from ordinary functions, with the part of dataclasses'
behaviour they use:

- ``__init__`` takes the fields in order (by position or keyword); a field
  has a default, a ``default_factory``, or ``init=False`` (then it starts
  as its default);
- ``__repr__`` shows the fields (not those with ``repr=False``);
- ``eq=True`` (the default) compares the fields, class for class, and makes
  the objects unhashable unless ``frozen``; ``eq=False`` keeps identity;
- ``frozen=True`` refuses assignments and hashes the fields.

Fields are the annotated names of the class and of its record bases, bases
first; methods the class defines itself are kept.  Type checkers see these
classes as dataclasses (``dataclass_transform``).
"""
from __future__ import annotations

import reprlib
from typing import Any, Callable, Optional, TypeVar, dataclass_transform, overload

__all__ = ["record", "field", "fields", "FrozenInstanceError"]

_MISSING: Any = object()
_C = TypeVar("_C", bound=type)


class Field:
    """One field of a record class."""
    __slots__ = ("name", "default", "default_factory", "init", "repr")

    def __init__(self, default: Any = _MISSING, default_factory: Any = _MISSING,
                 init: bool = True, repr: bool = True):
        self.name = ""
        self.default = default
        self.default_factory = default_factory
        self.init = init
        self.repr = repr

    def initial(self, owner: str) -> Any:
        if self.default is not _MISSING:
            return self.default
        if self.default_factory is not _MISSING:
            return self.default_factory()
        raise TypeError(f"{owner}() missing required argument: '{self.name}'")

    def __repr__(self) -> str:
        return f"Field({self.name!r})"


def field(*, default: Any = _MISSING, default_factory: Optional[Callable[[], Any]] = None,
          init: bool = True, repr: bool = True) -> Any:
    """A field with options, as ``dataclasses.field``."""
    return Field(default, _MISSING if default_factory is None else default_factory, init, repr)


def fields(record_or_class: Any) -> tuple[Field, ...]:
    """The fields of a record class or object, in order."""
    found: tuple[Field, ...] = record_or_class.__record_fields__
    return found


class FrozenInstanceError(AttributeError):
    """An assignment to a field of a frozen record."""


@overload
def record(cls: _C, /) -> _C: ...
@overload
def record(*, eq: bool = True, frozen: bool = False) -> Callable[[_C], _C]: ...


@dataclass_transform(eq_default=True, field_specifiers=(field, Field))
def record(cls: Optional[_C] = None, /, *, eq: bool = True,
           frozen: bool = False) -> Any:
    """Make ``cls`` a record class (see the module's text)."""
    def make(cls: _C) -> _C:
        _make(cls, eq, frozen)
        return cls
    return make if cls is None else make(cls)


def _make(cls: type, eq: bool, frozen: bool) -> None:
    by_name: dict[str, Field] = {}
    for base in reversed(cls.__mro__[1:]):
        for f in base.__dict__.get("__record_fields__", ()):
            by_name[f.name] = f
    for name, annotation in cls.__dict__.get("__annotations__", {}).items():
        if isinstance(annotation, str) and annotation.startswith(("ClassVar", "typing.ClassVar")):
            continue
        value = cls.__dict__.get(name, _MISSING)
        if isinstance(value, Field):
            f = value
            if f.default is _MISSING:
                delattr(cls, name)
            else:
                setattr(cls, name, f.default)
        else:
            f = Field(default=value)
        f.name = name
        by_name[name] = f       # a redeclared field keeps its base's place
    all_fields = tuple(by_name.values())
    own = cls.__dict__
    cls.__record_fields__ = all_fields     # type: ignore[attr-defined]
    # What the shared methods read (a subclass that is no record of its own
    # reads its record base's, as a method made for that base would).
    cls.__record_repr__ = tuple(f.name for f in all_fields if f.repr)  # type: ignore[attr-defined]
    names = tuple(f.name for f in all_fields)

    def define(name: str, function: Any) -> None:
        if name not in own:   # what the class defines itself stays
            function.__qualname__ = f"{cls.__qualname__}.{name}"
            setattr(cls, name, function)

    define("__init__", _init(cls.__name__, all_fields))
    if "__repr__" not in own:
        cls.__repr__ = _shared_repr    # type: ignore[assignment]
    if eq:
        define("__eq__", _eq(names))
        # A __hash__ of None in the class is Python's doing for a class that
        # defines __eq__, not the class's own.
        explicit_hash = own.get("__hash__") is not None
        if not explicit_hash:
            setattr(cls, "__hash__", _hash(names) if frozen else None)
    if frozen:
        cls.__record_frozen__ = (cls, frozenset(names))  # type: ignore[attr-defined]
        if "__setattr__" not in own:
            cls.__setattr__ = _refuse_assign    # type: ignore[method-assign,assignment]
        if "__delattr__" not in own:
            cls.__delattr__ = _refuse_delete    # type: ignore[method-assign,assignment]


def _init(owner: str, all_fields: tuple[Field, ...]) -> Callable[..., None]:
    taken = tuple(f for f in all_fields if f.init)
    names = tuple(f.name for f in taken)
    known = frozenset(names)
    # Of the fields outside __init__, those with a factory get their own
    # value; those with a plain default read it from the class, and the
    # others start unset, as with dataclasses.
    later = tuple(f for f in all_fields if not f.init and f.default_factory is not _MISSING)

    count = len(names)

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        if not kwargs and len(args) == count and not later:
            # Every field given by position, nothing to make: the common case.
            self.__dict__.update(zip(names, args))
            return
        if len(args) > len(names):
            raise TypeError(f"{owner}() takes {len(names)} positional arguments "
                            f"but {len(args)} were given")
        values = dict(zip(names, args))
        for name, value in kwargs.items():
            if name not in known:
                raise TypeError(f"{owner}() got an unexpected keyword argument '{name}'")
            if name in values:
                raise TypeError(f"{owner}() got multiple values for argument '{name}'")
            values[name] = value
        if len(values) < len(names):
            for f in taken[len(args):]:
                if f.name not in values:
                    values[f.name] = f.initial(owner)
        for f in later:
            values[f.name] = f.initial(owner)
        self.__dict__.update(values)    # also for frozen records: not through __setattr__
    return __init__


# The methods every record class shares, reading what _make put on its
# class: making a function (and a recursion guard) for each class was a
# fifth of the time classes took to create.

@reprlib.recursive_repr()
def _shared_repr(self: Any) -> str:
    shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__record_repr__)
    return f"{type(self).__qualname__}({shown})"


def _refuse_assign(self: Any, name: str, value: Any) -> None:
    owner, names = self.__record_frozen__
    if type(self) is owner or name in names:
        raise FrozenInstanceError(f"cannot assign to field '{name}'")
    object.__setattr__(self, name, value)


def _refuse_delete(self: Any, name: str) -> None:
    owner, names = self.__record_frozen__
    if type(self) is owner or name in names:
        raise FrozenInstanceError(f"cannot delete field '{name}'")
    object.__delattr__(self, name)


def _eq(names: tuple[str, ...]) -> Callable[[Any, Any], Any]:
    def __eq__(self: Any, other: Any) -> Any:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return (tuple(getattr(self, n) for n in names)
                == tuple(getattr(other, n) for n in names))
    return __eq__


def _hash(names: tuple[str, ...]) -> Callable[[Any], int]:
    def __hash__(self: Any) -> int:
        return hash(tuple(getattr(self, n) for n in names))
    return __hash__

