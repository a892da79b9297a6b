"""Widgets whose size the layout sets without asking for a second layout.

Textual's `Widget.virtual_size` is a reactive with `layout=True`: when a reflow gives a
widget a new size (a streamed answer wrapped to one more line), setting it asks for
another full layout of the screen, which finds the same sizes and draws again. In a
streaming answer that was every other layout of the screen, and a key typed meanwhile
waited for both (bench/remote_chat.py). The reflow that set the size already placed
everything, so these widgets take it as a plain value. Only for widgets that never set
`virtual_size` themselves (a `ScrollView` such as TextArea does, and needs the layout).
"""

from __future__ import annotations

from textual.geometry import Size
from textual.reactive import Reactive


class SizedByLayout:
    """Mixin (first among the bases): a new size from a layout does not ask for another."""

    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)
