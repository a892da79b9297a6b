"""What the chat screen does to the conversation itself: edit and resend, copy, new, open.

`ConversationActions` is a plain helper the screen's actions delegate to.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui.chat.clipboard import copy_with_notice, last_code_block
from tui.chat.message_list import MessageList, model_title
from tui.chat.params_panel import ParamsPanel
from tui.chat.prompt_input import PromptInput
from tui.human_units import plural

if TYPE_CHECKING:
    from tui.chat.answer_flow import AnswerFlow
    from tui.chat.chat_host import ChatHost
    from tui.chat.message_view import MessageView


OPEN_CHAT = "open_conversation"  # the store's name for the chat open at the last close


class ConversationActions:
    def __init__(self, screen: ChatHost, answers: AnswerFlow) -> None:
        self.screen = screen
        self.answers = answers  # the answer in progress streams on when another chat opens

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

    async def flip_answer(self, step: int) -> None:
        """Show the previous (-1) or next (+1) answer to the last prompt (kept by regenerate);
        the one shown is the one the next prompt builds on."""
        screen = self.screen
        view = screen.query_one(MessageList).last("assistant")
        if view is None or view.message_id is None or screen.generating:
            return
        versions = screen.store.versions.flip(view.message_id, step)
        if versions is None:
            return  # the first or the last answer already, or never regenerated
        assert screen.conversation_id is not None
        messages = screen.store.messages(screen.conversation_id)
        stored = next(m for m in messages if m.id == view.message_id)
        title = model_title(stored.model_key, self.model_names())
        await view.show_version(stored.content, stored.stats, title, versions)

    def show_answer_versions(self) -> None:
        """Mark the last answer of a reopened conversation when it has earlier versions."""
        view = self.screen.query_one(MessageList).last("assistant")
        if view is not None and view.message_id is not None:
            view.set_versions(self.screen.store.versions.of(view.message_id))

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
        prompt = screen.query_one(PromptInput)
        if screen.conversation_id is None and prompt.draft.strip():
            # Already a new chat: its unsent text would otherwise start the next message.
            prompt.end_edit(clear=False)
            prompt.clear()  # an edit, so ctrl+z brings the text back
            screen.store.set_draft(None, "")
            screen.notify("Cleared the unsent text for a new chat (ctrl+z brings it back).")
            prompt.focus()
            return
        self.keep_draft()
        self._show(None)

    def keep_draft(self) -> None:
        """Store what the prompt holds as the open conversation's draft."""
        screen = self.screen
        screen.store.set_draft(screen.conversation_id, screen.query_one(PromptInput).draft)

    def reopen_last(self) -> None:
        """At start: the chat that was open when the app last closed, else a new chat with
        the draft it had."""
        screen = self.screen
        last = screen.store.state(OPEN_CHAT)
        typed = screen.query_one(PromptInput).draft  # keys typed while the app started
        if last is not None and last.isdigit() and screen.store.get_conversation(int(last)):
            self.open(int(last))
        else:
            screen.query_one(PromptInput).show_draft(screen.store.draft(None))
        if typed:
            screen.query_one(PromptInput).show_draft(typed)  # what was typed wins

    def _show(self, conversation_id: int | None) -> None:
        """Empty the screen for `conversation_id` (None: a new chat), with its own draft."""
        screen = self.screen
        self.answers.leave()  # an answer streams on into its own chat, stored as it goes
        screen.conversation_id = conversation_id
        screen.store.set_state(OPEN_CHAT, None if conversation_id is None else str(conversation_id))
        prompt = screen.query_one(PromptInput)
        prompt.show_draft(screen.store.draft(conversation_id))
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

        def chosen(conversation_id: int | None) -> None:
            if conversation_id is None:
                if screen.conversation_id is not None and not screen.store.get_conversation(
                    screen.conversation_id
                ):
                    self._show(None)  # the open conversation was deleted, its draft too
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
        self.keep_draft()
        self._show(conversation_id)
        screen.query_one(ParamsPanel).system_prompt = summary.system_prompt
        # The answer streaming into this chat (if any) is shown by `resume`, still streaming.
        messages = self.answers.resume(conversation_id, screen.store.messages(conversation_id))
        screen.query_one(MessageList).show_stored(messages, self.model_names())
        screen.call_after_refresh(self.show_answer_versions)

    def model_names(self) -> dict[str, str]:
        """Display names of the models this app knows without a scan: the loaded one, the
        recents and the demo (a saved conversation keeps only the model's key)."""
        from backends.models.catalog import demo_spec

        manager = self.screen.manager
        demo = demo_spec()
        known = [*([demo] if demo else []), *manager.recents()]
        known += [manager.spec] if manager.spec else []
        return {spec.key: spec.name for spec in known}
