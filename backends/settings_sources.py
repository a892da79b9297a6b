"""Where settings come from, as raw data merged table by table before one validation.

Sources, lowest first: the TOML file, `LOCALAI_TUI_<FIELD>` environment variables (any case;
`LOCALAI_TUI_SAMPLING__TEMPERATURE` for a nested field; JSON for lists and tables), then
keyword overrides. An environment variable's text becomes the field's type when validated
(msgspec's lax mode: "0.5", "3"); for true/false fields the usual words count too ("yes",
"off"). Each value set by a variable is remembered, so an error can name the variable.
"""

from __future__ import annotations

import json
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec

from backends.settings_errors import NO_VALUE, Loc, SettingsError, SettingsProblem, bare_type

ENV_PREFIX = "LOCALAI_TUI_"
ENV_NESTED_DELIMITER = "__"
TRUE_WORDS = frozenset({"1", "on", "t", "true", "y", "yes"})
FALSE_WORDS = frozenset({"0", "off", "f", "false", "n", "no"})


def read_toml(path: Path) -> dict[str, Any]:
    """The file's tables as dicts; {} when there is no file; SettingsError when it is not TOML."""
    if not path.is_file():
        return {}
    try:
        data = msgspec.toml.decode(path.read_bytes())
    except msgspec.DecodeError as error:  # tomllib's words, with the line and column
        problem = SettingsProblem((), NO_VALUE, f"not valid TOML: {error}")
        raise SettingsError(str(path), [problem]) from None
    return data if isinstance(data, dict) else {}


def env_values(
    model: type[msgspec.Struct], environ: Mapping[str, str], where: str
) -> tuple[dict[str, Any], dict[Loc, str]]:
    """The fields set by environment variables (a nested dict of raw values), and for each
    field path the variable that set it. SettingsError (about `where`) for a variable that
    must be JSON and is not."""
    fields = _field_types(model)
    found: dict[str, Any] = {}
    sources: dict[Loc, str] = {}
    for name in sorted(environ, key=len):  # a whole table first, its nested fields after
        if not name.upper().startswith(ENV_PREFIX):
            continue
        path = name[len(ENV_PREFIX) :].lower().split(ENV_NESTED_DELIMITER)
        if path[0] not in fields:
            continue  # another LOCALAI_TUI_ variable (CONFIG, DATA_DIR) or an unknown field
        annotation = fields[path[0]]
        for key in path[1:]:
            annotation = _inner(annotation, key)
        try:
            value = _env_value(environ[name], bare_type(annotation))
        except ValueError as error:
            problem = SettingsProblem(tuple(path), environ[name], str(error), name)
            raise SettingsError(where, [problem]) from None
        target = found
        for key in path[:-1]:
            target = target.setdefault(key, {})
            if not isinstance(target, dict):
                break
        else:
            existing = target.get(path[-1])
            if isinstance(existing, dict) and isinstance(value, dict):
                deep_update(existing, value)
            else:
                target[path[-1]] = value
            sources[tuple(path)] = name
    return found, sources


def deep_update(target: dict[str, Any], updates: Mapping[str, Any]) -> None:
    """Merge `updates` into `target`, table by table (a later source wins per field)."""
    for key, value in updates.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            deep_update(target[key], value)
        else:
            target[key] = value


def _env_value(raw: str, annotation: Any) -> Any:
    if _is_struct(annotation) or typing.get_origin(annotation) in (list, dict):
        try:
            return json.loads(raw)
        except ValueError as error:
            raise ValueError(
                f"must be JSON for this setting (a list or a table): {error}"
            ) from None
    if annotation is bool:
        word = raw.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
    return raw


def _field_types(model: type[msgspec.Struct]) -> dict[str, Any]:
    return {field.encode_name: field.type for field in msgspec.structs.fields(model)}


def _inner(annotation: Any, key: str) -> Any:
    """The type of `key` inside a table field (a struct's field, or a dict's values)."""
    annotation = bare_type(annotation)
    if _is_struct(annotation):
        return _field_types(annotation).get(key, Any)
    if typing.get_origin(annotation) is dict:
        return typing.get_args(annotation)[1]
    return Any


def _is_struct(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, msgspec.Struct)
