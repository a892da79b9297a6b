"""Make Alt+digit and Alt+letter act as keys in ordinary terminals, never type.

Textual 8 maps the bytes ESC + digit to macOS Option-layer characters ("\\x1b2" -> "™")
for WezTerm on macOS. But ESC + digit is exactly what xterm, GNOME Terminal, tmux, screen
and most SSH sessions send for Alt+digit, so there the recent-model keys (alt+1..9) typed
"¡™£¢∞§¶•ª" into the prompt instead. Without those table entries Textual's parser reads
ESC + digit as alt+digit, the same way it already reads ESC + letter as alt+letter.

The parser still attaches the bare character to such a key (`Key("alt+2", "2")`), and input
widgets (TextArea, Input) insert any key whose character is printable before bindings are
consulted: with focus in the prompt, Alt+2 typed "2" and switched nothing. `as_command_key`
drops that character, so the key falls through to the screen's bindings.
"""

from __future__ import annotations

from textual import events

ALT_DIGIT_SEQUENCES = tuple(f"\x1b{digit}" for digit in "0123456789")


def read_alt_digits_as_keys() -> None:
    """Drop Textual's ESC+digit -> character entries (idempotent, process-wide)."""
    from textual._ansi_sequences import ANSI_SEQUENCES_KEYS

    for sequence in ALT_DIGIT_SEQUENCES:
        ANSI_SEQUENCES_KEYS.pop(sequence, None)  # type: ignore[attr-defined]


def as_command_key(event: events.Key) -> events.Key:
    """`event` without its character when it is an Alt combination, else `event` itself."""
    if event.character is None or not event.key.startswith("alt+"):
        return event
    return events.Key(event.key, None)
