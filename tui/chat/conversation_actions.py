"""What the chat screen does to the conversation itself: edit and resend, copy, new, open.

`ConversationActions` is a plain helper the screen's actions delegate to.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui.chat.clipboard import copy_with_notice, last_code_block
from tui.chat.message_list import MessageList
from tui.chat.params_panel import ParamsPanel
from tui.chat.prompt_input import PromptInput
from tui.human_units import plural

if TYPE_CHECKING:
    from tui.chat.chat_host import ChatHost
    from tui.chat.message_view import MessageView


class ConversationActions:
    def __init__(self, screen: ChatHost) -> None:
        self.screen = screen

    def edit_previous(self) -> None:
        """Edit the last prompt sent; again edits the one before."""
        screen = self.screen
        views = [v for v in screen.query_one(MessageList).views if v.role == "user"]
        if not views or screen.generating:
            return
        editing = screen.query_one(PromptInput).editing
        if editing in views:
            index = views.index(editing)
            target = views[index - 1] if index > 0 else views[index]
        else:
            target = views[-1]
        self.start_edit(target)

    def start_edit(self, view: MessageView) -> None:
        if self.screen.generating:
            return
        view.scroll_visible()
        self.screen.query_one(PromptInput).start_edit(view)
        # Its images come along: resending keeps them unless shift+F9 removes them.
        from tui.chat.attachment_bar import AttachmentBar

        self.screen.query_one(AttachmentBar).set(view.images)

    def copy_answer(self) -> None:
        screen = self.screen
        view = screen.query_one(MessageList).last("assistant")
        if view is None or not view.content:
            screen.notify("There is no answer to copy yet.")
            return
        copy_with_notice(
            screen.app, view.content, f"the last answer ({plural(len(view.content), 'character')})"
        )

    def copy_code(self) -> None:
        screen = self.screen
        view = screen.query_one(MessageList).last("assistant")
        code = last_code_block(view.content) if view else None
        if code is None:
            screen.notify("The last answer has no code block to copy.")
            return
        lines = plural(len(code.splitlines()), "line")
        copy_with_notice(screen.app, code, f"a code block ({lines})")

    def new_chat(self) -> None:
        screen = self.screen
        if screen.generating:
            screen.notify("Stop the answer first (Esc).")
            return
        screen.conversation_id = None
        prompt = screen.query_one(PromptInput)
        prompt.end_edit(clear=False)
        screen.query_one(MessageList).clear()
        screen.query_one(ParamsPanel).system_prompt = screen.settings.system_prompt
        prompt.focus()

    def open_list(self) -> None:
        screen = self.screen
        try:
            from tui.chat.conversations_screen import ConversationsScreen
        except ImportError:
            screen.notify("The conversation list is not available in this build.")
            return
        if screen.generating:
            screen.notify("Stop the answer first (Esc).")
            return

        def chosen(conversation_id: int | None) -> None:
            if conversation_id is None:
                if screen.conversation_id is not None and not screen.store.get_conversation(
                    screen.conversation_id
                ):
                    self.new_chat()  # the open conversation was deleted
                return
            if conversation_id < 0:
                self.new_chat()
            else:
                screen.open_conversation(conversation_id)

        screen.app.push_screen(
            ConversationsScreen(screen.store, model_names=self.model_names()), chosen
        )

    def open(self, conversation_id: int) -> None:
        screen = self.screen
        summary = screen.store.get_conversation(conversation_id)
        if summary is None:
            screen.notify("That conversation no longer exists.", severity="warning")
            return
        self.new_chat()
        screen.conversation_id = conversation_id
        screen.query_one(ParamsPanel).system_prompt = summary.system_prompt
        messages = screen.store.messages(conversation_id)
        screen.query_one(MessageList).show_stored(messages, self.model_names())

    def model_names(self) -> dict[str, str]:
        """Display names of the models this app knows without a scan: the loaded one, the
        recents and the demo (a saved conversation keeps only the model's key)."""
        from backends.models.catalog import demo_spec

        manager = self.screen.manager
        demo = demo_spec()
        known = [*([demo] if demo else []), *manager.recents()]
        known += [manager.spec] if manager.spec else []
        return {spec.key: spec.name for spec in known}
