"""The Speech screen's entries in the command palette (ctrl+p), each with its key."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import SystemCommand

if TYPE_CHECKING:
    from tui.speech.speech_screen import SpeechScreen

# (title, help, action name on SpeechScreen) for the command palette (ctrl+p)
PALETTE_ENTRIES = [
    ("Record from the microphone", "Press again to transcribe (ctrl+r)", "record"),
    ("Copy the transcript", "Via OSC 52 (ctrl+y)", "copy"),
    ("Export the transcript", ".txt, .srt or .vtt by the name (ctrl+s)", "export"),
    ("Send the transcript to the chat", "Into the prompt to edit (ctrl+g)", "send_to_chat"),
    ("Pick a speech model", "faster-whisper models found here (ctrl+o)", "pick_model"),
    ("Toggle translate to English", "Whisper's translate task (ctrl+t)", "toggle_translate"),
    ("Toggle skip silence (VAD)", "Silero VAD before decoding (ctrl+f)", "toggle_vad"),
    ("Speak text aloud", "The Speak tab: text to speech (alt+s)", "show_speak_tab"),
]


def speech_commands(screen: SpeechScreen) -> list[SystemCommand]:
    return [
        SystemCommand(title, help_text, getattr(screen, f"action_{action}"))
        for title, help_text, action in PALETTE_ENTRIES
    ]
