"""Make Alt+digit reach the app as `alt+1` … `alt+9` in ordinary terminals.

Textual 8 maps the bytes ESC + digit to macOS Option-layer characters ("\\x1b2" -> "™")
for WezTerm on macOS. But ESC + digit is exactly what xterm, GNOME Terminal, tmux, screen
and most SSH sessions send for Alt+digit, so there the recent-model keys (alt+1..9) typed
"¡™£¢∞§¶•ª" into the prompt instead. Without those table entries Textual's parser reads
ESC + digit as alt+digit, the same way it already reads ESC + letter as alt+letter.
"""

from __future__ import annotations

ALT_DIGIT_SEQUENCES = tuple(f"\x1b{digit}" for digit in "0123456789")


def read_alt_digits_as_keys() -> None:
    """Drop Textual's ESC+digit -> character entries (idempotent, process-wide)."""
    from textual._ansi_sequences import ANSI_SEQUENCES_KEYS

    for sequence in ALT_DIGIT_SEQUENCES:
        ANSI_SEQUENCES_KEYS.pop(sequence, None)  # type: ignore[attr-defined]
