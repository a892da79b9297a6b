"""What F1 lists: the app's key sections, the screen it was pressed on first after Global."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui.navigation import place_named
from tui.screens.help import Section
from tui.widgets.navigation_bar import key_display

if TYPE_CHECKING:
    from tui.app import LocalAIApp


def help_sections(app: LocalAIApp) -> list[Section]:
    """(title, bindings holder) pairs: a live widget where one is mounted, else its class.

    The screens are imported here, when F1 is pressed, not when the app starts.
    """
    from tui.chat.conversations_screen import ConversationsScreen
    from tui.chat.message_view import MessageView
    from tui.chat.prompt_input import PromptInput
    from tui.hub.cache_screen import CacheScreen
    from tui.hub.downloads_panel import DownloadsPanel
    from tui.hub.hub_screen import HubScreen
    from tui.hub.model_card_screen import ModelCardScreen
    from tui.images.gallery_screen import GalleryScreen
    from tui.images.images_screen import ImagesScreen
    from tui.screens.model_picker import ModelPickerScreen
    from tui.speech.speech_screen import SpeechScreen
    from tui.tasks.tasks_screen import TasksScreen

    chat = app.chat
    sections: list[Section] = [("Global", app), ("Chat", chat)]
    for widget_class, title in ((PromptInput, "Prompt"), (MessageView, "A message you sent")):
        found = chat.query(widget_class)
        sections.append((title, found.first() if found else widget_class))

    def titled(name: str) -> str:
        place = place_named(name)
        return f"{place.title} ({key_display(app, place.binding_id)})"

    sections += [
        ("Model picker", ModelPickerScreen),
        ("Conversations", ConversationsScreen),
        (titled("hub"), HubScreen),
        ("Model card", ModelCardScreen),
        ("Downloads", DownloadsPanel),
        (titled("cache"), CacheScreen),
        (titled("images"), ImagesScreen),
        (titled("gallery"), GalleryScreen),
        (titled("speech"), SpeechScreen),
        (titled("tasks"), TasksScreen),
    ]
    # The keys of the screen F1 was pressed on come right after the global ones.
    here = [s for s in sections[2:] if isinstance(s[1], type) and isinstance(app.screen, s[1])]
    return [sections[0], *here, *(s for s in sections[1:] if s not in here)]
