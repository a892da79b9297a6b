"""How large a picture goes to a model (kept apart from backends.base, whose dataclasses
cost the first frame ~9 ms to define: the settings need only this number to start)."""

from __future__ import annotations

# Pictures go to a model at most this many pixels on their longest side (the stored copy
# keeps its size): vision processors work at 224-1536 px, and a 3000x3000 PNG went out as
# a 36 MB data URL on every turn.
DEFAULT_IMAGE_MAX_SIDE = 1536
