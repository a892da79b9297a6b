"""A stored conversation as a Markdown document, and a file name for it."""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from backends.errors import StorageError
from backends.store.chat_state import SystemPromptChange
from backends.store.records import ConversationSummary, StoredMessage

_ROLE_HEADINGS = {
    "user": "User",
    "assistant": "Assistant",
    "system": "System",
    "picture": "Picture",
}
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


def render_markdown(
    conversation: ConversationSummary,
    messages: Sequence[StoredMessage],
    prompt_changes: Sequence[SystemPromptChange] = (),
    model_names: Mapping[str, str] | None = None,
) -> str:
    """Title, a details line, the system prompt, then one section per message, text verbatim.

    A system prompt changed mid-chat appears where it began to apply; models appear by the
    names the app shows (`model_names`, key to name), with the key only when none is known.
    """
    names = model_names or {}
    details = [f"Created {_when(conversation.created_at)}"]
    if conversation.model_key:
        details.insert(0, f"Model: {_model(conversation.model_key, names)}")
    parts = [f"# {conversation.title}", "_" + " · ".join(details) + "_"]
    changes = list(prompt_changes) or [SystemPromptChange(0, conversation.system_prompt)]
    pending = [c for c in changes if c.after_message_id > 0]
    first = [c for c in changes if c.after_message_id <= 0][-1:]
    if first and first[0].text.strip():
        parts += ["## System prompt", _closed(first[0].text.strip())]
    for message in messages:
        while pending and pending[0].after_message_id < message.id:
            text = pending.pop(0).text.strip()
            parts += ["## System prompt changed", _closed(text) if text else "_(removed)_"]
        heading = _ROLE_HEADINGS.get(message.role, message.role.title() or "Message")
        if message.role in ("assistant", "picture") and message.model_key:
            heading += f" · {_model(message.model_key, names)}"
        if message.role == "tool":
            parts += _tool_section(message)
            continue
        body = _closed(message.content.strip("\n"))
        images = [_image_link(n, path) for n, path in enumerate(message.images, start=1)]
        parts.append(f"## {heading}")
        if message.reasoning.strip():
            parts.append(_thinking_block(message.reasoning, message.stats))
        parts.append(body or ("" if images else "_(empty)_"))
        if images:
            parts.append("\n".join(images))
        for call in (message.tools or {}).get("calls") or ():
            parts.append(
                f"_Calls `{call.get('name')}` ({call.get('source')}): `{call.get('arguments')}`_"
            )
        parameters = (message.stats or {}).get("parameters") if message.role == "picture" else None
        if isinstance(parameters, str) and parameters:  # a picture made with /image: A1111 text
            parts.append(_closed(f"```text\n{parameters}\n```"))
        if message.stats:
            line = _stats_line(message.stats)
            if line:
                parts.append(f"_{line}_")
    return "\n\n".join(parts) + "\n"


def _tool_section(message: StoredMessage) -> list[str]:
    """A tool's result: which tool, whose, what the user decided, the text as it came."""
    info = message.tools or {}
    bits = [f"`{info.get('name', 'tool')}`", str(info.get("source") or "?")]
    if info.get("outcome"):
        bits.append(str(info["outcome"]))
    if info.get("is_error"):
        bits.append("error")
    fence = "````" if "```" in message.content else "```"
    return [f"### Tool · {' · '.join(bits)}", f"{fence}text\n{message.content}\n{fence}"]


def thinking_title(stats: dict[str, Any] | None) -> str:
    """ "Thinking · 12.4 s" where the time is known, else "Thinking"."""
    seconds = (stats or {}).get("thinking_s")
    if isinstance(seconds, int | float):
        return f"Thinking · {seconds:.1f} s"
    return "Thinking"


def _thinking_block(reasoning: str, stats: dict[str, Any] | None) -> str:
    """The thinking, folded: GitHub, VS Code and most Markdown viewers show `<details>`."""
    body = _closed(reasoning.strip("\n"))
    return f"<details>\n<summary>{thinking_title(stats)}</summary>\n\n{body}\n\n</details>"


def _model(key: str, names: Mapping[str, str]) -> str:
    """A model as the app names it; a key it cannot name (a model no longer on disk) is
    shown as the file or repository it points at."""
    if key in names:
        return names[key]
    _, _, rest = key.partition(":")
    return Path(rest).name if key.startswith("gguf:") else (rest or key)


def _image_link(number: int, path: str) -> str:
    """A Markdown image pointing at the stored copy (a file URL, so any viewer finds it)."""
    return f"![image {number}]({Path(path).as_uri()})"


def export_filename(title: str, conversation_id: int) -> str:
    """A file stem from the title (letters, digits, dashes; at most 60 chars)."""
    stem = re.sub(r"[^\w]+", "-", title.lower()).strip("-_")[:60].strip("-_")
    return stem or f"conversation-{conversation_id}"


def _closed(text: str) -> str:
    """Close a code fence left open (an answer cut off mid-block) so later sections survive."""
    fence: str | None = None
    for line in text.splitlines():
        m = _FENCE.match(line)
        if not m:
            continue
        mark = m.group(1)
        if fence is None:
            fence = mark
        elif mark[0] == fence[0] and len(mark) >= len(fence) and not line.strip()[len(mark) :]:
            fence = None
    return text if fence is None else f"{text}\n{fence}"


def _stats_line(stats: dict[str, Any]) -> str:
    bits = []
    tokens = stats.get("completion_tokens")
    if isinstance(tokens, int):
        bits.append(f"{tokens} token{'' if tokens == 1 else 's'}")
    rate = stats.get("tokens_per_s")
    if isinstance(rate, (int, float)):
        bits.append(f"{rate:.1f} tok/s")
    thought = stats.get("first_thought_s")
    if isinstance(thought, (int, float)):
        bits.append(f"first thought {thought:.2f} s")
    ttft = stats.get("ttft_s")
    if isinstance(ttft, (int, float)):
        bits.append(f"first token {ttft:.2f} s")
    reason = stats.get("finish_reason")
    if reason == "error":
        bits.append(f"failed: {stats.get('error') or 'unknown error'}")
    elif isinstance(reason, str) and reason not in ("stop", "eos"):
        bits.append(FINISH_NOTES.get(reason, f"stopped ({reason})"))
    return " · ".join(bits)


# Why an answer ended, in the words the chat shows under it (and the README uses).
FINISH_NOTES = {
    "cancelled": "stopped",
    "length": "hit the token limit",
    "context": "context window full",
}


def _when(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts))


def write_new_file(directory: Path, stem: str, text: str) -> Path:
    """`text` in a new file `stem.md` (or `stem-2.md`…) in `directory`; never overwrites."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for n in range(1, 10_000):
            path = directory / (f"{stem}.md" if n == 1 else f"{stem}-{n}.md")
            try:
                with path.open("x", encoding="utf-8") as fh:
                    fh.write(text)
                return path
            except FileExistsError:
                continue
    except OSError as exc:
        raise StorageError(
            f"Could not write the export to {directory} ({exc.strerror or exc}). "
            "Check that the folder exists and is writable.",
            title="Export failed",
        ) from exc
    raise StorageError(
        f"Too many exports named {stem!r} in {directory}. Delete some and try again.",
        title="Export failed",
    )
