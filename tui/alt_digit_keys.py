"""Make Alt+digit and Alt+letter act as keys in ordinary terminals, never type.

Textual 8 maps the bytes ESC + digit to macOS Option-layer characters ("\\x1b2" -> "™")
for WezTerm on macOS. But ESC + digit is exactly what xterm, GNOME Terminal, tmux, screen
and most SSH sessions send for Alt+digit, so there the recent-model keys (alt+1..9) typed
"¡™£¢∞§¶•ª" into the prompt instead. Here each ESC + digit (and ESC + a lowercase letter
Textual does not map) is entered in the table as its Alt key, so the parser reads it as soon
as both bytes are in, with no character attached. Where the
parser still attaches the bare character to such a key (`Key("alt+2", "2")`), input
widgets (TextArea, Input) insert any key whose character is printable before bindings are
consulted: with focus in the prompt, Alt+2 typed "2" and switched nothing. `as_command_key`
drops that character, so the key falls through to the screen's bindings.
"""

from __future__ import annotations

import string
import time
from collections.abc import Callable
from enum import Enum

from textual import events

ALT_DIGIT_SEQUENCES = tuple(f"\x1b{digit}" for digit in "0123456789")

# ESC + a digit or a lowercase letter, read as that Alt key the moment its second byte
# arrives. Without a table entry Textual waits for a third byte: when it is another ESC (two
# presses that arrive together, as over SSH, or keys queued during a load) it gives up and
# reissues the pair as "^" then the digit, typing "^1" into the prompt. Letters Textual
# already maps (ESC b / ESC f: word left / right) keep their meaning.
AltKey = Enum(  # type: ignore[misc]
    "AltKey", {f"ALT_{c}": f"alt+{c}" for c in string.digits + string.ascii_lowercase}
)


def read_alt_digits_as_keys() -> None:
    """Read ESC + digit / letter as Alt+it at once (idempotent, process-wide).

    Textual's table holds ESC + digit -> a macOS Option-layer character; those entries are
    replaced, and entries are added for letters it does not map."""
    from textual._ansi_sequences import ANSI_SEQUENCES_KEYS

    for key in AltKey:
        sequence = f"\x1b{key.value[-1]}"
        current = ANSI_SEQUENCES_KEYS.get(sequence)  # type: ignore[attr-defined]
        if current is None or sequence in ALT_DIGIT_SEQUENCES:
            ANSI_SEQUENCES_KEYS[sequence] = (key,)  # type: ignore[index]


def as_command_key(event: events.Key) -> events.Key:
    """`event` without its character when it is an Alt combination, else `event` itself."""
    if event.character is None or not event.key.startswith("alt+"):
        return event
    return events.Key(event.key, None)


ESCAPE_PREFIX_S = 1.0  # how long after a lone Esc a digit or "e" still means Alt+it
PREFIXED_KEYS = frozenset("123456789e")


class EscapePrefix:
    """Esc on its own, then a digit or "e", acts as Alt+digit / Alt+e (as in readline).

    Alt is Esc-then-key on the wire, and people type it that way on keyboards without a
    usable Alt; the two arrive apart when typed by hand (tmux 3.5 waits only 10 ms for a
    following key, Textual 100 ms). The chat screen arms the prefix only when Esc had
    nothing else to do (no answer, no load, no edit), and any next key disarms it.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._until = 0.0

    def arm(self) -> None:
        self._until = self._clock() + ESCAPE_PREFIX_S

    def apply(self, event: events.Key) -> events.Key:
        until, self._until = self._until, 0.0
        if until and event.key in PREFIXED_KEYS and self._clock() <= until:
            return events.Key(f"alt+{event.key}", None)
        return event
