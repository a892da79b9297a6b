"""Typed, validated settings classes without pydantic: `BaseModel`, `Field`, `ValidationError`.

Why not pydantic: importing pydantic and pydantic-settings took 0.12–0.28 s of the
0.3–0.4 s by which localai-tui's first frame trailed a bare Textual app (bench/startup.py,
bench/remote_chat.py), and settings are read before that frame. The settings use a small
part of pydantic, kept here with pydantic's spelling so a settings class reads the same:
annotated fields with `Field(default | default_factory, ge/gt/le/lt, description)`; types
str, int, float, bool, Path, `X | None`, `list[X]`, `dict[str, X]` and nested models;
unknown keys ignored; `model_dump()`; and one `ValidationError` (a ValueError) naming
every bad field as `section.field: what is wrong`.

Values are coerced the way pydantic's lax mode does for what TOML and environment
variables produce: an int where a float goes, "0.5" or "true" from an environment
variable, a whole float where an int goes; anything else is an error.
"""

from __future__ import annotations

import math
import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, Union

_MISSING: Any = object()
Loc = tuple[str | int, ...]

TRUE_WORDS = frozenset({"1", "on", "t", "true", "y", "yes"})
FALSE_WORDS = frozenset({"0", "off", "f", "false", "n", "no"})


class FieldInfo:
    """What `Field()` declares: a default (or factory), bounds and a description."""

    def __init__(
        self,
        default: Any = _MISSING,
        *,
        default_factory: Callable[[], Any] | None = None,
        description: str = "",
        ge: float | None = None,
        gt: float | None = None,
        le: float | None = None,
        lt: float | None = None,
    ) -> None:
        self.default = default
        self.default_factory = default_factory
        self.description = description
        self.bounds = {"ge": ge, "gt": gt, "le": le, "lt": lt}

    @property
    def required(self) -> bool:
        return self.default is _MISSING and self.default_factory is None

    def make_default(self) -> Any:
        return self.default_factory() if self.default_factory is not None else self.default


def Field(  # noqa: N802 - pydantic's spelling
    default: Any = _MISSING,
    *,
    default_factory: Callable[[], Any] | None = None,
    description: str = "",
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    lt: float | None = None,
) -> Any:
    """Declare a field: `x: float = Field(default=0.7, ge=0, description="...")`."""
    return FieldInfo(
        default,
        default_factory=default_factory,
        description=description,
        ge=ge,
        gt=gt,
        le=le,
        lt=lt,
    )


class ValidationError(ValueError):
    """Every problem found in one validation, each with where it is (`loc`) and what."""

    def __init__(self, title: str, problems: list[tuple[Loc, str]]) -> None:
        self.title = title
        self.problems = problems
        count = len(problems)
        lines = [f"{count} validation error{'s' if count != 1 else ''} for {title}"]
        for loc, message in problems:
            lines.append(f"{'.'.join(str(part) for part in loc) or title}\n  {message}")
        super().__init__("\n".join(lines))

    def errors(self) -> list[dict[str, Any]]:
        """pydantic's shape: [{"loc": ("sampling", "temperature"), "msg": "..."}, ...]."""
        return [{"loc": loc, "msg": message} for loc, message in self.problems]


class BaseModel:
    """A class whose annotated attributes are validated fields (see the module docstring)."""

    _fields_cache: ClassVar[dict[str, tuple[Any, FieldInfo]] | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._fields_cache = None

    @classmethod
    def field_specs(cls) -> dict[str, tuple[Any, FieldInfo]]:
        """Field name -> (type, FieldInfo), in declaration order (base classes first)."""
        if cls._fields_cache is None:
            hints = typing.get_type_hints(cls)
            fields: dict[str, tuple[Any, FieldInfo]] = {}
            for klass in reversed(cls.__mro__):
                for name in getattr(klass, "__annotations__", {}):
                    if name.startswith("_") or typing.get_origin(hints[name]) is ClassVar:
                        continue
                    declared = klass.__dict__.get(name, _MISSING)
                    info = declared if isinstance(declared, FieldInfo) else FieldInfo(declared)
                    fields[name] = (hints[name], info)
            cls._fields_cache = fields
        return cls._fields_cache

    def __init__(self, **data: Any) -> None:
        problems: list[tuple[Loc, str]] = []
        values = _validate_fields(type(self), data, (), problems)
        if problems:
            raise ValidationError(type(self).__name__, problems)
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def model_dump(self) -> dict[str, Any]:
        """Fields as plain data (nested models as dicts)."""
        return {name: _dump(getattr(self, name)) for name in type(self).field_specs()}

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.model_dump() == other.model_dump()  # type: ignore[attr-defined]

    __hash__ = None  # type: ignore[assignment]  # mutable, like pydantic models

    def __repr__(self) -> str:
        fields = ", ".join(f"{n}={getattr(self, n)!r}" for n in type(self).field_specs())
        return f"{type(self).__name__}({fields})"


def _dump(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump()
    if isinstance(value, list):
        return [_dump(v) for v in value]
    if isinstance(value, dict):
        return {k: _dump(v) for k, v in value.items()}
    return value


def _validate_fields(
    model: type[BaseModel], data: dict[str, Any], loc: Loc, problems: list[tuple[Loc, str]]
) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, (annotation, info) in model.field_specs().items():
        if name in data:
            value = _coerce(annotation, data[name], (*loc, name), problems)
            if value is not _MISSING:
                values[name] = _check_bounds(value, info, (*loc, name), problems)
        elif info.required:
            problems.append(((*loc, name), "Field required"))
        else:
            values[name] = info.make_default()
    return values  # keys that are not fields are ignored, as extra="ignore" does


_BOUND_MESSAGES = {
    "ge": ("greater than or equal to", lambda v, b: v >= b),
    "gt": ("greater than", lambda v, b: v > b),
    "le": ("less than or equal to", lambda v, b: v <= b),
    "lt": ("less than", lambda v, b: v < b),
}


def _check_bounds(value: Any, info: FieldInfo, loc: Loc, problems: list[tuple[Loc, str]]) -> Any:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return value
    for kind, bound in info.bounds.items():
        if bound is None:
            continue
        words, holds = _BOUND_MESSAGES[kind]
        if not holds(value, bound):
            shown = int(bound) if float(bound).is_integer() else bound
            problems.append((loc, f"Input should be {words} {shown}, got {value!r}"))
            break
    return value


def _coerce(annotation: Any, value: Any, loc: Loc, problems: list[tuple[Loc, str]]) -> Any:
    """`value` as `annotation`, or _MISSING with a problem recorded."""
    origin = typing.get_origin(annotation)
    if origin is Union or origin is types.UnionType:
        options = typing.get_args(annotation)
        if value is None and type(None) in options:
            return None
        attempts: list[tuple[Loc, str]] = []
        for option in options:
            if option is type(None):
                continue
            result = _coerce(option, value, loc, attempts)
            if result is not _MISSING:
                return result
        problems.append(attempts[0] if attempts else (loc, "Input should be None"))
        return _MISSING
    if origin is list:
        if not isinstance(value, list | tuple):
            problems.append((loc, f"Input should be a valid list, got {value!r}"))
            return _MISSING
        (item_type,) = typing.get_args(annotation) or (Any,)
        before = len(problems)
        items = [_coerce(item_type, v, (*loc, i), problems) for i, v in enumerate(value)]
        return items if len(problems) == before else _MISSING
    if origin is dict:
        if not isinstance(value, dict):
            problems.append((loc, f"Input should be a valid dictionary, got {value!r}"))
            return _MISSING
        _, value_type = typing.get_args(annotation) or (str, Any)
        before = len(problems)
        mapping = {
            str(k): _coerce(value_type, v, (*loc, str(k)), problems) for k, v in value.items()
        }
        return mapping if len(problems) == before else _MISSING
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if isinstance(value, annotation):
            return value
        if not isinstance(value, dict):
            problems.append((loc, f"Input should be a table of {annotation.__name__} fields"))
            return _MISSING
        before = len(problems)
        fields = _validate_fields(annotation, value, loc, problems)
        if len(problems) != before:
            return _MISSING
        model = annotation.__new__(annotation)
        for name, field_value in fields.items():
            object.__setattr__(model, name, field_value)
        return model
    scalar = _SCALARS.get(annotation)
    if scalar is not None:
        result = scalar(value)
        if result is _MISSING:
            problems.append((loc, f"{_SCALAR_ERRORS[annotation]}, got {value!r}"))
        return result
    if annotation is Any:
        return value
    raise TypeError(f"settings fields of type {annotation!r} are not supported")


def _to_bool(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
    return _MISSING


def _to_int(value: Any) -> Any:
    if isinstance(value, int):  # True/False included: pydantic's lax mode takes them as 1/0
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return _MISSING
    return _MISSING


def _to_float(value: Any) -> Any:
    if isinstance(value, int | float):  # bools too, as pydantic's lax mode
        return float(value)
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return _MISSING
        return number if math.isfinite(number) else _MISSING
    return _MISSING


def _to_str(value: Any) -> Any:
    return value if isinstance(value, str) else _MISSING


def _to_path(value: Any) -> Any:
    return Path(value) if isinstance(value, str | Path) else _MISSING


_SCALARS: dict[Any, Callable[[Any], Any]] = {
    bool: _to_bool,
    int: _to_int,
    float: _to_float,
    str: _to_str,
    Path: _to_path,
}
_SCALAR_ERRORS = {
    bool: "Input should be a valid boolean",
    int: "Input should be a valid integer",
    float: "Input should be a valid number",
    str: "Input should be a valid string",
    Path: "Input should be a valid path",
}


class BaseSettings(BaseModel):
    """The top of a settings tree, as pydantic-settings names it; its sources are merged
    by the loader (backends/settings.py) before validation."""
