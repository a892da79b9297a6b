"""What the chat's helpers (AnswerFlow, ModelSwitching, ConversationActions) use of the chat
screen.

The helpers are typed against this Protocol rather than `ChatScreen`, so they never import
the screen that imports them; the screen is the one implementation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from textual.app import App
    from textual.message import Message
    from textual.notifications import SeverityLevel

    from backends.models.manager import ModelManager
    from backends.settings import Settings
    from backends.store.conversations import ConversationStore
    from tui.chat.status_line import StatusLine
    from tui.widgets.device_gauge import DeviceGauge


class ChatHost(Protocol):
    settings: Settings
    store: ConversationStore
    manager: ModelManager
    conversation_id: int | None  # the conversation on screen; None before the first message
    gauge: DeviceGauge | None

    @property
    def app(self) -> App[Any]: ...

    @property
    def status(self) -> StatusLine: ...

    @property
    def generating(self) -> bool: ...

    def query_one(self, selector: Any, expect_type: Any = ...) -> Any: ...

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None: ...

    def post_message(self, message: Message) -> bool: ...

    def run_worker(self, work: Any, *args: Any, **kwargs: Any) -> Any: ...

    def call_later(self, callback: Any, *args: Any, **kwargs: Any) -> bool: ...

    def open_conversation(self, conversation_id: int) -> None: ...
