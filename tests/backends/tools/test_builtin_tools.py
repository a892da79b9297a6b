"""The app's own tools: files only inside the allowed folders (symlinks resolved first),
refusals that say why, and a Toolbox that never raises."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from backends.base import ToolCall, ToolSpec
from backends.tools.builtin import builtin_tools
from backends.tools.permissions import AlwaysAllowed
from backends.tools.tool_loop import ToolLoop
from backends.tools.toolbox import OfferedTool, Toolbox, ToolResult


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    allowed, outside = tmp_path / "allowed", tmp_path / "secret"
    allowed.mkdir()
    outside.mkdir()
    (allowed / "a.txt").write_text("inside", encoding="utf-8")
    (outside / "key.txt").write_text("secret", encoding="utf-8")
    (allowed / "sub").mkdir()
    return allowed, outside


def call(name: str, **arguments: object) -> ToolCall:
    return ToolCall("c1", name, json.dumps(arguments))


def test_read_file_inside_and_refusals_outside(folders: tuple[Path, Path]) -> None:
    allowed, outside = folders
    box = Toolbox.with_builtins(builtin_tools([allowed]))
    assert box.run(call("read_file", path=str(allowed / "a.txt"))).text == "inside"
    assert box.run(call("read_file", path="a.txt")).text == "inside"  # relative to the folder
    refused = box.run(call("read_file", path=str(outside / "key.txt")))
    assert refused.is_error and "outside the allowed folders" in refused.text
    assert str(allowed) in refused.text  # says what is allowed
    dots = box.run(call("read_file", path=str(allowed / ".." / "secret" / "key.txt")))
    assert dots.is_error and "outside the allowed folders" in dots.text


def test_a_symlink_pointing_out_is_refused(folders: tuple[Path, Path]) -> None:
    allowed, outside = folders
    (allowed / "link.txt").symlink_to(outside / "key.txt")
    (allowed / "door").symlink_to(outside, target_is_directory=True)
    box = Toolbox.with_builtins(builtin_tools([allowed]))
    for path in (allowed / "link.txt", allowed / "door" / "key.txt"):
        refused = box.run(call("read_file", path=str(path)))
        assert refused.is_error and f"it leads to {outside / 'key.txt'}" in refused.text
    listing = box.run(call("list_directory", path=str(allowed / "door")))
    assert listing.is_error and "outside the allowed folders" in listing.text


def test_list_directory_date_and_bad_calls(folders: tuple[Path, Path]) -> None:
    allowed, _ = folders
    box = Toolbox.with_builtins(builtin_tools([allowed]))
    assert box.run(call("list_directory", path=str(allowed))).text == "a.txt\nsub/"
    assert not box.run(call("current_datetime")).is_error
    assert "no `path` argument" in box.run(call("read_file")).text
    assert "not valid JSON" in box.run(ToolCall("c", "read_file", "{oops")).text
    assert "There is no tool named 'rm'" in box.run(call("rm")).text
    nothing = Toolbox.with_builtins(builtin_tools([]))
    assert [s.name for s in nothing.specs()] == ["current_datetime"]  # no file tools offered


def test_a_hung_tool_is_given_up_after_the_timeout(tmp_path: Path) -> None:
    release = threading.Event()

    def hang(_: dict[str, object]) -> str:
        release.wait(10)
        return "late"

    box = Toolbox([OfferedTool(ToolSpec("hang", "never answers"), "app", hang)])
    loop = ToolLoop(box, AlwaysAllowed(tmp_path / "p.json"), timeout_s=0.05)
    result = loop._run_with_timeout(call("hang"))
    release.set()
    assert result.is_error and "did not answer within 0.05 s" in result.text
    assert isinstance(result, ToolResult)


def test_always_is_remembered_across_restarts(tmp_path: Path) -> None:
    path = tmp_path / "perm.json"
    AlwaysAllowed(path).add(AlwaysAllowed.key("app", "read_file"))
    again = AlwaysAllowed(path)
    assert "app/read_file" in again and "files-server/read_file" not in again
