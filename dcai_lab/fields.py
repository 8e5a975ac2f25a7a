"""Type checks for the settings dataclasses (experiment configs, contributor kinds, mechanism specs): each
field against its annotation, so that ``duration_days = "two"`` is refused at load with the field's name,
not later as a bare TypeError, or never."""
from __future__ import annotations

import types
import typing
from dataclasses import fields, is_dataclass
from numbers import Integral, Real

class SettingTypeError(TypeError, ValueError):
    """A setting of the wrong type: a TypeError, and a ValueError for callers that catch bad settings."""


_NAMES = {int: "an integer", float: "a number", bool: "true or false", str: "a string", dict: "a table",
          list: "a list", type(None): "left out"}


def check_types(obj, where: str) -> None:
    """Refuse the first field of dataclass ``obj`` whose value does not fit its annotation, naming the field,
    the value and what it must be. An ``int`` field takes integers (not booleans, not 2.0); a ``float`` field
    takes any real number but a boolean."""
    assert is_dataclass(obj)
    hints = typing.get_type_hints(type(obj))
    for f in fields(obj):
        if f.name not in hints or typing.get_origin(hints[f.name]) is typing.ClassVar:
            continue
        value = getattr(obj, f.name)
        allowed = _alternatives(hints[f.name])
        if allowed is None or any(_fits(value, t) for t in allowed):
            continue
        wanted = " or ".join(_NAMES.get(t, getattr(t, "__name__", str(t))) for t in allowed)
        raise SettingTypeError(f"{where}: {f.name} must be {wanted}, got {type(value).__name__} {value!r:.60}")


def _alternatives(hint) -> tuple | None:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        parts = [_alternatives(a) for a in typing.get_args(hint)]
        return None if any(p is None for p in parts) else tuple(t for p in parts for t in p)
    if origin is not None:
        return (origin,) if origin in (dict, list, tuple) else None
    return (hint,) if hint in _NAMES or hint is tuple else None


def _fits(value, t) -> bool:
    if t is int:
        return isinstance(value, Integral) and not isinstance(value, bool)
    if t is float:
        return isinstance(value, Real) and not isinstance(value, bool)
    if t is type(None):
        return value is None
    return isinstance(value, t)
