"""The tools the app brings: the current date and time, and reading files and folders the
user allowed in the config (`[tools] allowed_folders`), nothing outside them.

Paths are resolved (symlinks followed, `..` collapsed) before the check, so a link inside
an allowed folder that points out of it is refused like the path it points to. A refusal
says why, and the model gets that sentence as the tool's result.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backends.base import ToolSpec

MAX_READ_BYTES = 64 * 1024  # a model's context is small: the first 64 KiB of a file
MAX_LISTED = 200


class ToolRefused(Exception):
    """A tool call that must not run (outside the allowed folders, bad arguments)."""


@dataclass(frozen=True)
class BuiltinTool:
    spec: ToolSpec
    run: Callable[[dict[str, Any]], str]


def _path_argument(arguments: dict[str, Any]) -> str:
    path = arguments.get("path")
    if not isinstance(path, str) or not path.strip():
        raise ToolRefused("The call has no `path` argument (a file or folder path as text).")
    return path


class AllowedFolders:
    """The folders the file tools may look into, resolved once."""

    def __init__(self, folders: Sequence[str | Path]) -> None:
        self.folders = [Path(f).expanduser().resolve() for f in folders]

    def check(self, raw: str) -> Path:
        """The resolved path when it lies inside an allowed folder; ToolRefused otherwise."""
        if not self.folders:
            raise ToolRefused(
                "No folders are allowed for file tools. Add some under [tools] allowed_folders "
                "in the config file."
            )
        path = Path(raw).expanduser()
        if not path.is_absolute():
            path = self.folders[0] / path  # relative to the first allowed folder
        resolved = path.resolve()
        for folder in self.folders:
            if resolved == folder or resolved.is_relative_to(folder):
                return resolved
        allowed = ", ".join(str(f) for f in self.folders)
        via = f" (it leads to {resolved})" if resolved != path.absolute() else ""
        raise ToolRefused(f"{raw} is outside the allowed folders{via}. Allowed: {allowed}.")


def builtin_tools(folders: Sequence[str | Path]) -> list[BuiltinTool]:
    allowed = AllowedFolders(folders)

    def now(_: dict[str, Any]) -> str:
        local = dt.datetime.now().astimezone()
        return local.strftime("%A %Y-%m-%d %H:%M:%S %Z (UTC%z)")

    def read_file(arguments: dict[str, Any]) -> str:
        path = allowed.check(_path_argument(arguments))
        if not path.is_file():
            raise ToolRefused(f"{path} is not a file.")
        try:
            with path.open("rb") as fh:
                data = fh.read(MAX_READ_BYTES + 1)
        except OSError as error:
            raise ToolRefused(f"{path} could not be read ({error.strerror or error}).") from None
        if b"\0" in data[:4096]:
            raise ToolRefused(f"{path} is a binary file, not text.")
        text = data[:MAX_READ_BYTES].decode("utf-8", errors="replace")
        more = len(data) > MAX_READ_BYTES
        return text + (f"\n[… cut at {MAX_READ_BYTES // 1024} KiB]" if more else "")

    def list_directory(arguments: dict[str, Any]) -> str:
        path = allowed.check(
            arguments.get("path") or str(allowed.folders[0] if allowed.folders else "")
        )
        if not path.is_dir():
            raise ToolRefused(f"{path} is not a folder.")
        try:
            entries = sorted(os.scandir(path), key=lambda e: e.name)
        except OSError as error:
            raise ToolRefused(f"{path} could not be listed ({error.strerror or error}).") from None
        lines = [e.name + ("/" if e.is_dir() else "") for e in entries[:MAX_LISTED]]
        if len(entries) > MAX_LISTED:
            lines.append(f"[… and {len(entries) - MAX_LISTED} more]")
        return "\n".join(lines) or "(empty folder)"

    path_schema = {
        "type": "object",
        "properties": {"path": {"type": "string", "description": "Absolute or relative path"}},
        "required": ["path"],
    }
    clock = BuiltinTool(
        ToolSpec("current_datetime", "The current local date, time and time zone."), now
    )
    if not allowed.folders:
        return [clock]  # no folder allowed: the file tools would only refuse
    return [
        clock,
        BuiltinTool(
            ToolSpec(
                "read_file", "Read a text file (first 64 KiB) from an allowed folder.", path_schema
            ),
            read_file,
        ),
        BuiltinTool(
            ToolSpec(
                "list_directory", "List the entries of a folder the user allowed.", path_schema
            ),
            list_directory,
        ),
    ]
