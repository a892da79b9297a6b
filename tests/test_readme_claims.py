"""The README's claims, checked against the live code (runs in CI with the rest).

- every key in the Keys table is bound, to an action the row describes (read from the
  bindings the classes declare, not a copy of them);
- every option in the configuration example parses and reaches the object it configures
  (the load options an engine gets, the sampling parameters a request carries, …);
- every command-line flag the README uses exists.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import tomllib

from backends.settings import load_settings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
KEY_NAMES = {"esc": "escape", "del": "delete", "↑": "up", "pageup": "pageup"}
# Rows whose description lists the keys of one screen: the class names they must be bound in.
ROW_OWNERS = {
    "in a model card": "ModelCard",
    "in the downloads panel": "Download",
    "F3": "Hub",
    "F4": "Cache",
    "F5": "Image",
    "F6": "Gallery",
    "F7": "Spe",  # the Speech screen and its tabs (SpeakPanel, TranscribePanel)
}


def _section(title: str) -> str:
    start = README.index(f"## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start : end if end > 0 else None]


def _key_rows() -> list[tuple[str, str]]:
    rows = []
    for line in _section("Keys").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 2 and cells[0] not in ("Key", "---"):
            rows.append((cells[0], cells[1]))
    return rows


def _live_bindings() -> dict[str, list[tuple[str, str]]]:
    """key -> (owner, description or action) of every binding a class under tui declares
    or inherits (TextArea's own keys included)."""
    from tui.keymap_check import binding_owners

    bound: dict[str, list[tuple[str, str]]] = {}
    for owner in binding_owners():
        for key, bindings in owner._merge_bindings().key_to_bindings.items():  # type: ignore[attr-defined]
            for binding in bindings:
                text = f"{binding.description} {binding.action}"
                bound.setdefault(key.lower(), []).append((owner.__name__, text))
    return bound


def _normal(key: str) -> str:
    key = key.strip().strip("`").lower()
    *modifiers, name = key.split("+") if len(key) > 1 else [key]
    return "+".join([*modifiers, KEY_NAMES.get(name, name)])


def _stems(text: str) -> set[str]:
    return {w[:4] for w in re.findall(r"[a-z]+", text.lower()) if len(w) >= 3}


def _first_column_keys(cell: str) -> list[str]:
    if cell.startswith("in "):
        return []  # "in a model card": the keys are in the description
    cell = cell.replace("↑ in an empty prompt", "")
    if "…" in cell:  # alt+1 … alt+9
        first, last = (c.strip() for c in cell.split("…"))
        prefix = first.rstrip("0123456789")
        return [
            f"{prefix}{n}" for n in range(int(first[len(prefix) :]), int(last[len(prefix) :]) + 1)
        ]
    cell = re.sub(r" in (a|an|the) .*$", "", cell)  # "Tab in a path box": the key is Tab
    keys = [k.strip() for k in re.split(r" / | or |, ", cell) if k.strip()]
    return [_normal(k) for k in keys if not k.strip("`").startswith("/")]


def _commands_in_first_column(cell: str) -> list[str]:
    """Slash commands typed in the chat prompt (`/image <prompt>`): not keys."""
    return re.findall(r"`(/\w+)", cell)


def _keys_in_description(text: str) -> list[str]:
    keys = re.findall(r"\b(?:ctrl|alt|shift)\+\w+", text)
    keys += re.findall(r"`(\w)`", text)
    keys += [k for k in ("Space", "Del", "Esc", "Enter") if re.search(rf"\b{k}\b", text)]
    return [_normal(k) for k in keys]


@pytest.mark.parametrize("row", _key_rows(), ids=lambda row: row[0])
def test_every_key_in_the_keys_table_is_bound_as_described(row: tuple[str, str]) -> None:
    cell, description = row
    bound = _live_bindings()
    for key in _first_column_keys(cell):
        assert key in bound, f"{key!r} (README: {cell}) is bound nowhere"
        said = _stems(description)
        matching = [b for b in bound[key] if _stems(b[1]) & said]
        assert matching, f"{key!r} is bound to {bound[key]}, not to what README says: {description}"
    for command in _commands_in_first_column(cell):
        handled = (Path(__file__).resolve().parents[1] / "tui" / "chat").glob("*.py")
        said = f"{command} is handled nowhere"
        assert any(f'"{command} ' in f.read_text() for f in handled), said
    where = next((owner for row, owner in ROW_OWNERS.items() if cell.startswith(row)), "")
    for key in _keys_in_description(description):
        # Enter is the input's or the table's own "submitted" / "selected" on every screen.
        place = "" if key == "enter" else where
        owners = [owner for owner, _ in bound.get(key, []) if place in owner]
        assert owners, f"{key!r} (README row {cell!r}: {description}) is not bound in {where}"


def _config_example() -> str:
    block = _section("Configuration").split("```toml\n", 1)[1]
    return block.split("```", 1)[0]


def _reaches(settings: Any, path: tuple[str, ...]) -> Any:
    """The value the option arrives as in the object it configures."""
    section, *rest = path
    if section == "sampling":
        return getattr(settings.sampling.to_params(), rest[0])
    if section == "servers":
        entry = settings.servers[int(rest[0])]
        # What the engine gets (ServerConfig); workflows are read by the picker's catalog.
        value = getattr(entry.to_config(), rest[1], None) or getattr(entry, rest[1])
        for part in rest[2:]:  # a table (headers) arrives as pairs
            value = dict(value)[part]
        return value
    if section == "models" and rest[1] == "thinking":
        return settings.thinks(rest[0])
    if section == "models":
        return getattr(settings.load_options_for(rest[0]), rest[1])
    if section == "images" and rest == ["outputs_dir"]:
        return settings.images.resolved_outputs_dir()
    if section == "images" and rest[0] == "base_pipelines":
        return settings.images.base_pipelines[rest[1]]
    if section == "speech" and rest[0] in ("device", "compute_type"):
        return getattr(settings.speech.load_options(), rest[0])
    if section == "speech" and rest[0] in ("language", "vad_filter"):
        value = getattr(settings.speech.transcribe_options(), rest[0])
        return "auto" if value is None else value
    if section == "speech" and rest[0] == "translate":
        return settings.speech.transcribe_options().task == "translate"
    value = settings
    for part in path:
        if isinstance(value, (list, tuple)):  # [[mcp_servers]] and other arrays of tables
            value = value[int(part)]
        else:
            value = value[part] if isinstance(value, dict) else getattr(value, part)
    return value


def _leaves(table: dict[str, Any], path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    found = []
    for name, value in table.items():
        here = (*path, name)
        if isinstance(value, dict) and here not in (("keymap",),):
            found += _leaves(value, here)
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            for i, item in enumerate(value):
                found += _leaves(item, (*here, str(i)))
        else:
            found.append((here, value))
    return found


def _same(arrived: Any, written: Any) -> bool:
    if isinstance(arrived, (list, tuple)):
        return [_same_path(a) for a in arrived] == [_same_path(w) for w in written]
    if isinstance(arrived, Path):
        return arrived == Path(written).expanduser() or arrived == Path(written)
    if isinstance(arrived, str) and isinstance(written, str) and written.startswith("~"):
        return arrived in (written, str(Path(written).expanduser()))  # a path, expanded
    return bool(arrived == written)


def _same_path(value: Any) -> Any:
    return Path(value).expanduser() if isinstance(value, (str, Path)) else value


def test_every_option_in_the_config_example_parses_and_reaches_its_object(
    tmp_path: Path,
) -> None:
    example = _config_example()
    config = tmp_path / "config.toml"
    config.write_text(example, encoding="utf-8")
    settings = load_settings(config)
    written = tomllib.loads(example)
    leaves = _leaves(written)
    assert len(leaves) > 30  # the whole example, not a part of it
    for path, value in leaves:
        if path == ("keymap",):
            continue
        arrived = _reaches(settings, path)
        assert _same(arrived, value), f"{'.'.join(path)} = {value!r} arrived as {arrived!r}"


async def test_the_config_examples_keymap_is_applied_and_collides_with_nothing(
    tmp_path: Path,
) -> None:
    from tui.app import LocalAIApp
    from tui.keymap_check import keymap_collisions

    keymap = tomllib.loads(_config_example())["keymap"]
    assert keymap_collisions(keymap) == []
    config = tmp_path / "config.toml"
    config.write_text(f"[keymap]\n{_toml_table(keymap)}", encoding="utf-8")
    app = LocalAIApp(load_settings(config))
    assert app._keymap == keymap
    app.store.close()


def _toml_table(table: dict[str, str]) -> str:
    return "".join(f'"{name}" = "{value}"\n' for name, value in table.items())


def test_every_command_line_flag_in_the_readme_exists() -> None:
    from tui.cli import build_parser

    known = set(build_parser()._option_string_actions)
    used = set()
    for line in README.splitlines():
        if line.lstrip().startswith("localai-tui "):
            used |= set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", line.split("#")[0]))
    flags_sentence = README.split("`localai-tui --help` lists the flags:", 1)[1].split("\n\n")[0]
    listed = set(re.findall(r"`(--[a-z][a-z-]*)`", flags_sentence))
    assert {"--model", "--engine", "--config", "--offline"} <= used | listed
    assert (used | listed | {"--help"}) <= known, sorted((used | listed) - known)
    assert listed == known - {"--help", "-h"}, "the README's list of flags is complete"
