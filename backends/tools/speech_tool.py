"""`transcribe_audio`: a file in an allowed folder, through the app's speech manager (the
Speech screen's model, loaded on first use), as text with its segments' times."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from backends.base import ToolSpec
from backends.errors import BackendError
from backends.tools.builtin import AllowedFolders, BuiltinTool, ToolRefused

if TYPE_CHECKING:
    from backends.speech.manager import SpeechManager

AUDIO_SUFFIXES = {".wav", ".mp3", ".flac", ".ogg", ".m4a", ".opus", ".webm", ".aac"}


def transcribe_tool(speech: SpeechManager, folders: AllowedFolders) -> BuiltinTool:
    def transcribe(arguments: dict[str, Any]) -> str:
        from backends.speech.protocol import Segment

        raw = arguments.get("path")
        if not isinstance(raw, str) or not raw.strip():
            raise ToolRefused("The call has no `path` argument (an audio file's path as text).")
        path = folders.check(raw)
        if not path.is_file():
            raise ToolRefused(f"{path} is not a file.")
        if path.suffix.lower() not in AUDIO_SUFFIXES:
            known = ", ".join(sorted(AUDIO_SUFFIXES))
            raise ToolRefused(f"{path.name} is not an audio file this app reads ({known}).")
        try:
            segments = [e for e in speech.transcribe(str(path)) if isinstance(e, Segment)]
        except BackendError as error:
            raise ToolRefused(f"{error.title}: {error.message}") from None
        lines = [f"[{s.start:.1f}–{s.end:.1f} s] {s.text.strip()}" for s in segments]
        return "\n".join(lines) or "(no speech found)"

    schema = {
        "type": "object",
        "properties": {"path": {"type": "string", "description": "The audio file"}},
        "required": ["path"],
    }
    spec = ToolSpec(
        "transcribe_audio", "Transcribe speech in an audio file from an allowed folder.", schema
    )
    return BuiltinTool(spec, transcribe)
