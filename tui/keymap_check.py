"""Refuse a keymap that gives one key to two actions that are live at the same time.

Textual applies a keymap silently: `"chat.pick_model" = "f6"` took F6 from nobody, because
the app's F6 (the gallery, a priority binding) still won, so the picker was left with no key
and F1 listed f6 twice. Two bindings collide when the keymap gives them the same key and
they are live together: both on the same screen or widget class, or one of them on the app
(app bindings are live on every screen).

The bindings are read from the classes themselves (every `BINDINGS` under `tui`), so the
check follows the code as it is, not a copy of it.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator, Mapping

from textual.app import App
from textual.binding import Binding
from textual.dom import DOMNode


def binding_owners() -> dict[type[DOMNode], list[Binding]]:
    """Every class under `tui` that declares bindings -> its bindings."""
    import tui

    for module in pkgutil.walk_packages(tui.__path__, "tui."):
        if not module.name.endswith("__main__"):
            importlib.import_module(module.name)
    return {
        cls: [b if isinstance(b, Binding) else Binding(*b) for b in vars(cls)["BINDINGS"]]
        for cls in _subclasses(DOMNode)
        if cls.__module__.startswith("tui.") and "BINDINGS" in vars(cls)
    }


def _subclasses(cls: type) -> Iterator[type]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def keymap_collisions(
    keymap: Mapping[str, str], owners: Mapping[type[DOMNode], list[Binding]] | None = None
) -> list[tuple[str, str, str]]:
    """(key, remapped binding id, the other binding on that key) for every key the keymap
    gives to two actions live at the same time."""
    if not keymap:
        return []
    owners = binding_owners() if owners is None else owners
    tables: dict[type, dict[str, list[str]]] = {}  # owner -> key -> binding ids (or actions)
    for owner, bindings in owners.items():
        table = tables.setdefault(owner, {})
        for binding in bindings:
            label = binding.id or f"{owner.__name__}.{binding.action}"
            for key in _keys(keymap.get(binding.id or "", binding.key)):
                table.setdefault(key, []).append(label)
    apps = [owner for owner in tables if issubclass(owner, App)]
    found: list[tuple[str, str, str]] = []
    said: set[frozenset[str]] = set()
    for owner, table in tables.items():
        for key, labels in table.items():
            live = labels + [
                x for app in apps if app is not owner for x in tables[app].get(key, [])
            ]
            for label in (x for x in live if x in keymap):
                for other in live:
                    pair = frozenset((label, other, key))
                    if other == label or pair in said:
                        continue
                    said.add(pair)
                    found.append((key, label, other))
    return found


def _keys(spec: str) -> list[str]:
    return [key.strip() for key in spec.split(",") if key.strip()]


def usable_keymap(keymap: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    """The keymap without the entries that collide, and a sentence per dropped entry naming
    the actions it collides with (it keeps its default key, so none is left without one).

    Importing every screen to read its bindings takes a second or more: call it from a
    worker after the first frame, not on the way to it."""
    owners = binding_owners()
    ids = sorted({b.id for bindings in owners.values() for b in bindings if b.id})
    unknown = [_unknown_id(name, ids) for name in keymap if name not in ids]
    others: dict[tuple[str, str], list[str]] = {}
    for key, label, other in keymap_collisions(keymap, owners):
        others.setdefault((label, key), []).append(f'"{other}"')
    notes = [
        f'The keymap gives {key} to "{label}", but {key} is already {" and ".join(names)}. '
        f'"{label}" keeps its default key: pick another key for it in the config file.'
        for (label, key), names in others.items()
    ]
    dropped = {label for label, _ in others}
    return {b: k for b, k in keymap.items() if b not in dropped}, unknown + notes


def _unknown_id(name: str, ids: list[str]) -> str:
    """A keymap entry no binding has (a typo, or an id from another version)."""
    import difflib

    close = difflib.get_close_matches(name, ids, n=1)
    hint = f'did you mean "{close[0]}"?' if close else "F1 lists every binding id."
    return f'The keymap names "{name}", which is not a binding id, so it does nothing: {hint}'
