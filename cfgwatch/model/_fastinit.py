"""A cheaper `__init__` for the model's frozen slotted dataclasses, same signature and semantics.

Why: a frozen dataclass's generated `__init__` stores each field with `object.__setattr__(self, "name",
value)`, a generic attribute lookup per field. A 50k-line config builds several hundred thousand model
objects (every ACL entry is a rule, a match, addresses, services, ports and a source reference), and that
store was about a fifth of a parse. Writing through each slot's own descriptor (`Cls.name.__set__`) does
the same store without the lookup, about twice as fast. Everything else the dataclass generated
(frozenness, equality, hashing, `replace`, pickling, `__match_args__`) is left as it is.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

T = TypeVar("T")

_MISSING = dataclasses.MISSING


class _Factory:
    """Default of a parameter whose field has a default factory (shown as `<factory>`, as dataclasses do)."""

    def __repr__(self) -> str:
        return "<factory>"


_FACTORY = _Factory()


def fast_init(cls: type[T]) -> type[T]:
    """Replace the generated `__init__` of frozen slotted dataclass `cls` with slot-descriptor stores.

    Same parameters, order, defaults, default factories and `__post_init__` call as the dataclass's own.
    A class with `init=False`, keyword-only or `InitVar` fields keeps its generated `__init__`.
    """
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    slots = getattr(cls, "__slots__", ())
    if any(not f.init or f.kw_only for f in fields) or any(f.name not in slots for f in fields):
        return cls
    namespace: dict[str, Any] = {"_factory": _FACTORY}
    params: list[str] = []
    body: list[str] = []
    for index, f in enumerate(fields):
        setter = f"_set{index}"
        namespace[setter] = cls.__dict__[f.name].__set__
        if f.default is not _MISSING:
            namespace[f"_dflt{index}"] = f.default
            params.append(f"{f.name}=_dflt{index}")
        elif f.default_factory is not _MISSING:
            namespace[f"_fact{index}"] = f.default_factory
            params.append(f"{f.name}=_factory")
            body.append(f"    if {f.name} is _factory:\n        {f.name} = _fact{index}()")
        else:
            params.append(f.name)
        body.append(f"    {setter}(self, {f.name})")
    if hasattr(cls, "__post_init__"):
        body.append("    self.__post_init__()")
    source = f"def __init__(self, {', '.join(params)}) -> None:\n" + "\n".join(body or ["    pass"]) + "\n"
    exec(source, namespace)
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    init.__doc__ = cls.__init__.__doc__
    init.__annotations__ = dict(cls.__init__.__annotations__)
    cls.__init__ = init  # type: ignore[method-assign]
    return cls
