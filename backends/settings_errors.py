"""Settings that do not validate, said the way a user fixes them: where, what value, what is wanted.

msgspec stops at the first bad value and names its place as `$.models[...].n_ctx` (a table's
key hidden, the value not shown). `find_problems` walks the data beside the type to name every
bad value with its full path (`models."gguf:/m.gguf".n_ctx = 100: expected a whole number >= 256`)
and, for a value set by an environment variable, that variable.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Callable, Mapping
from typing import Any

import msgspec

Loc = tuple[str | int, ...]
Converter = Callable[[Any, Any], Any]  # (data, type) -> value; raises msgspec.ValidationError

NO_VALUE: Any = object()  # a problem with no value to show (a missing field, a file)
_TYPE_WORDS = {
    "float": "a number",
    "int": "a whole number",
    "str": "text in quotes",
    "bool": "true or false",
    "array": "a list",
    "object": "a table",
    "null": "nothing",
}
SECRET_FIELDS = frozenset({"api_key", "headers", "token"})  # values never shown in an error
_WHERE = re.compile(r" - at `\$(?P<where>[^`]*)`$")
_STEP = re.compile(r"\.(\w+)|\[(\d+)\]")


class SettingsProblem(msgspec.Struct, frozen=True):
    """One bad value: its path in the settings, the value given, and what is wanted.

    A msgspec Struct, not a dataclass: defining a frozen dataclass costs ~0.5 ms of startup,
    a Struct ~0.01 ms.
    """

    loc: Loc
    value: Any
    message: str
    source: str = ""  # the environment variable that set it, when one did

    def __str__(self) -> str:
        secret = any(part in SECRET_FIELDS for part in self.loc)
        given = "" if self.value is NO_VALUE else " = (hidden)" if secret else f" = {self.value!r}"
        origin = f" (set by {self.source})" if self.source else ""
        where = f"{dotted(self.loc)}{given}: " if self.loc else ""
        return f"{where}{self.message}{origin}"


class SettingsError(ValueError):
    """Settings that do not validate; `problems` names each bad field and its value."""

    def __init__(self, source: str, problems: list[SettingsProblem]) -> None:
        self.source = source
        self.problems = problems
        count = len(problems)
        lines = [f"{count} problem{'s' if count != 1 else ''} in {source}:"]
        lines += [f"  {problem}" for problem in problems]
        super().__init__("\n".join(lines))


def dotted(loc: Loc) -> str:
    """`sampling.temperature`, `servers[0].name`, `models."gguf:/m.gguf".n_ctx` (TOML keys)."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            key = part if re.fullmatch(r"[A-Za-z0-9_-]+", part) else f'"{part}"'
            text += f".{key}" if text else key
    return text


def find_problems(
    data: Any, annotation: Any, convert: Converter, env_sources: Mapping[Loc, str] | None = None
) -> list[SettingsProblem]:
    """Every bad value in `data` for `annotation` (empty when it converts)."""
    problems = _problems(data, annotation, (), convert)
    sources = env_sources or {}
    return [_with_source(problem, sources) for problem in problems]


def _problems(data: Any, annotation: Any, loc: Loc, convert: Converter) -> list[SettingsProblem]:
    try:
        convert(data, annotation)
        return []
    except msgspec.ValidationError as error:
        first = _problem(str(error), data, loc)
    children: list[SettingsProblem] = []
    inner = bare_type(annotation)
    if isinstance(inner, type) and issubclass(inner, msgspec.Struct) and isinstance(data, dict):
        names = [field.encode_name for field in msgspec.structs.fields(inner)]
        for field in msgspec.structs.fields(inner):
            if field.encode_name in data:
                value = data[field.encode_name]
                children += _problems(value, field.type, (*loc, field.name), convert)
        children += [
            SettingsProblem((*loc, str(key)), value, _unknown(str(key), names))
            for key, value in data.items()
            if key not in names
        ]
    elif typing.get_origin(inner) is list and isinstance(data, list):
        (item_type,) = typing.get_args(inner)
        for index, item in enumerate(data):
            children += _problems(item, item_type, (*loc, index), convert)
    elif typing.get_origin(inner) is dict and isinstance(data, dict):
        _, value_type = typing.get_args(inner)
        for key, item in data.items():
            children += _problems(item, value_type, (*loc, str(key)), convert)
    if typing.get_origin(inner) is typing.Literal:  # "invalid enum value": say the choices
        choices = ", ".join(repr(choice) for choice in typing.get_args(inner))
        first = msgspec.structs.replace(first, message=f"{first.message}; use one of {choices}")
    # A table whose fields are each fine can still lack a required one: msgspec's own words.
    return children or [first]


def _unknown(key: str, names: list[str]) -> str:
    """A key no setting has (a typo would otherwise be ignored without a word)."""
    import difflib

    close = difflib.get_close_matches(key, names, n=1)
    hint = f"did you mean {close[0]}?" if close else "see the README's Configuration section"
    return f"not a setting here; {hint}"


def _problem(text: str, data: Any, loc: Loc) -> SettingsProblem:
    """msgspec's message made plain, at the full path, with the value found there."""
    match = _WHERE.search(text)
    message = text[: match.start()] if match else text
    value = data
    for name, index in _STEP.findall(match.group("where") if match else ""):
        step: str | int = int(index) if index else name
        loc = (*loc, step)
        try:
            value = value[step]
        except (KeyError, IndexError, TypeError):
            value = NO_VALUE
    if message.startswith("Object missing required field"):
        return SettingsProblem(loc, NO_VALUE, message.replace("Object missing", "missing the"))
    message = re.sub(r", got `\w+`$", "", message)  # the value itself is shown instead
    message = re.sub(r"`([\w |]+)`", _type_words, message)
    return SettingsProblem(loc, value, message[:1].lower() + message[1:])


def _type_words(match: re.Match[str]) -> str:
    """`int` -> "a whole number"; `str | null` -> "text in quotes" (leaving it out is fine)."""
    names = [name.strip() for name in match.group(1).split("|")]
    return " or ".join(_TYPE_WORDS.get(name, name) for name in names if name != "null")


def _with_source(problem: SettingsProblem, sources: Mapping[Loc, str]) -> SettingsProblem:
    for depth in range(len(problem.loc), 0, -1):
        variable = sources.get(problem.loc[:depth])
        if variable:
            return SettingsProblem(problem.loc, problem.value, problem.message, variable)
    return problem


def bare_type(annotation: Any) -> Any:
    """`X` for `Annotated[X, ...]` and `X | None` (what a value must be, bounds aside)."""
    if typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if len(args) == 1 and type(None) in typing.get_args(annotation):
        return bare_type(args[0])
    return annotation
