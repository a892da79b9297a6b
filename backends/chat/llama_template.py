"""A llama.cpp prompt from the GGUF's own chat template, and the answer read back from it.

The template renders the conversation with its tools and thinking switch (or, for a GGUF
without one, a plain transcript with stop sequences — never llama-cpp-python's silent
llama-2 fallback); the sampled text is then split into thinking (when the template opened
`<think>` itself) and tool calls in the model's own format.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from backends.base import ChatEvent, ChatMessage, GenerationParams
from backends.chat.reasoning import prompt_opens_thinking, split_reasoning, thinking_kwargs
from backends.chat.template_messages import template_messages, tools_kwargs
from backends.chat.tool_call_text import collect_tool_calls
from backends.chat.transcript import TRANSCRIPT_STOPS, transcript_prompt
from backends.errors import GenerationError

if TYPE_CHECKING:
    from llama_cpp import Llama


def render_prompt(
    llm: Llama, chat_template: str | None, messages: Sequence[ChatMessage], params: GenerationParams
) -> tuple[str, bool, list[str]]:
    """The prompt text, whether a BOS token must be added, and the stop sequences."""
    if not chat_template:
        return transcript_prompt(messages), True, list(TRANSCRIPT_STOPS)
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    eos_id, bos_id = llm.token_eos(), llm.token_bos()
    formatter = Jinja2ChatFormatter(
        template=chat_template,
        eos_token=llm._model.token_get_text(eos_id) if eos_id != -1 else "",
        bos_token=llm._model.token_get_text(bos_id) if bos_id != -1 else "",
        add_generation_prompt=True,
    )
    try:
        chat: Any = template_messages(messages)
        rendered = formatter(messages=chat, **thinking_kwargs(params), **tools_kwargs(params))
    except Exception as error:  # jinja errors vary; any of them means the same
        raise GenerationError(
            f"This model's chat template failed on the conversation ({error}). "
            "Try starting a new chat."
        ) from error
    return rendered.prompt, not rendered.added_special, []


def read_answer(
    answer: Iterator[ChatEvent], prompt: str, params: GenerationParams, takes_tools: bool
) -> Iterator[ChatEvent]:
    """The sampled events with thinking and tool calls split out of the text."""
    if prompt_opens_thinking(prompt):  # the template opened <think> already
        answer = split_reasoning(answer, opened=True)
    if params.tools and takes_tools:
        answer = collect_tool_calls(answer, [tool.name for tool in params.tools])
    return answer
