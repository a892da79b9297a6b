"""The plain transcript prompt used when a model carries no chat template.

Base models (and some GGUFs) ship no template. Guessing one silently (llama-cpp-python
falls back to the llama-2 format) makes replies echo the prompt, so engines use this
neutral format instead and tell the user with a `Notice`.
"""

from __future__ import annotations

from collections.abc import Sequence

from backends.base import ChatMessage, Notice

_LABELS = {"system": "System", "user": "User", "assistant": "Assistant"}

# Where a base model starts writing the next turn itself; the answer ends there.
TRANSCRIPT_STOPS: tuple[str, ...] = ("\nUser:", "\nSystem:")

NO_TEMPLATE_NOTICE = Notice(
    "This model has no chat template (it is probably a base model), so the conversation "
    "is sent as a plain 'User: / Assistant:' transcript. Answers may be rough; an "
    "instruct or chat version of the model will follow the conversation better."
)


def transcript_prompt(messages: Sequence[ChatMessage]) -> str:
    """'System: ...\\nUser: ...\\nAssistant:' ending with an open assistant turn."""
    lines = [f"{_LABELS[m.role]}: {m.content}" for m in messages]
    lines.append("Assistant:")
    return "\n".join(lines)


class StopSequenceFilter:
    """Passes streamed text through, holding back what could be the start of a stop string.

    `feed()` returns the text that is safe to show; once a stop string is complete,
    `stopped` is True and nothing after it is ever returned.
    """

    def __init__(self, stops: Sequence[str] = TRANSCRIPT_STOPS) -> None:
        self._stops = tuple(stops)
        self._held = ""
        self.stopped = False

    def feed(self, text: str) -> str:
        if self.stopped:
            return ""
        buffer = self._held + text
        cut = min((i for i in (buffer.find(s) for s in self._stops) if i >= 0), default=-1)
        if cut >= 0:
            self.stopped = True
            self._held = ""
            return buffer[:cut]
        keep = 0
        for stop in self._stops:
            for size in range(min(len(stop) - 1, len(buffer)), 0, -1):
                if buffer.endswith(stop[:size]):
                    keep = max(keep, size)
                    break
        self._held = buffer[len(buffer) - keep :] if keep else ""
        return buffer[: len(buffer) - keep]

    def flush(self) -> str:
        """What was held back, once the stream ended without a stop string."""
        held, self._held = self._held, ""
        return "" if self.stopped else held
