"""Styling cost of the conversation: adding a message leaves the ones above alone."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tui.app import LocalAIApp
from tui.chat.message_list import MessageList
from tui.chat.message_view import MessageView


async def test_a_new_message_does_not_restyle_the_messages_above(
    make_app: Callable[..., LocalAIApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rule like `* :last-child` makes every widget order-dependent, and Textual then
    restyles each sibling's whole subtree on every mount: the whole chat per message."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        messages = app.query_one(MessageList)
        for number in range(3):
            await messages.add(MessageView("user", f"message {number}\n\nsecond paragraph"))
        await pilot.pause()
        restyled: list[MessageView] = []
        original = MessageView.update_node_styles

        def spy(self: MessageView, animate: bool = True) -> None:
            restyled.append(self)
            original(self, animate)

        monkeypatch.setattr(MessageView, "update_node_styles", spy)
        await messages.add(MessageView("user", "one more"))
        await pilot.pause()
        assert len(messages.views) == 4
        assert restyled == []
