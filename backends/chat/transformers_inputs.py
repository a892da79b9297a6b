"""A conversation as `generate()`'s inputs for a transformers chat model.

Three ways in: a vision model's processor, the tokenizer's chat template, or (a base model
with no template) a plain transcript whose stop sequences the answer is cut at. Then the
cap on new tokens that the model's context window leaves after the prompt.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from backends.base import ChatMessage, GenerationParams
from backends.chat.reasoning import thinking_kwargs
from backends.chat.template_messages import template_messages, tools_kwargs
from backends.chat.transcript import TRANSCRIPT_STOPS, StopSequenceFilter, transcript_prompt
from backends.chat.transformers_vision import encode_with_processor
from backends.errors import GenerationError


@dataclass
class PromptInputs:
    """`encoded`: the tokenizer's or processor's dict of tensors (input_ids, attention_mask,
    pixel values...); `templated` False means a plain transcript, which the user is told."""

    encoded: Any
    stop_filter: StopSequenceFilter
    templated: bool = True


def encode_conversation(
    tokenizer: Any, processor: Any, messages: Sequence[ChatMessage], params: GenerationParams
) -> PromptInputs:
    """Encode `messages` the way the loaded model reads them."""
    if processor is not None:
        return PromptInputs(encode_with_processor(processor, messages), StopSequenceFilter(()))
    if tokenizer.chat_template:
        try:
            encoded = tokenizer.apply_chat_template(
                template_messages(messages),
                add_generation_prompt=True,
                return_tensors="pt",
                return_dict=True,
                **thinking_kwargs(params),
                **tools_kwargs(params),
            )
        except Exception as error:  # jinja errors vary; any of them means the same
            raise GenerationError(
                f"This model's chat template failed on the conversation ({error}). "
                "Try starting a new chat."
            ) from error
        return PromptInputs(encoded, StopSequenceFilter(()))
    encoded = tokenizer(transcript_prompt(messages), return_tensors="pt")
    return PromptInputs(encoded, StopSequenceFilter(TRANSCRIPT_STOPS), templated=False)


def new_token_cap(model: Any, prompt_len: int, max_new: int) -> int:
    """`max_new`, or less where the context window is the tighter cap; a prompt that fills
    the window is refused with what to do."""
    window = getattr(model.config, "max_position_embeddings", None)
    if not isinstance(window, int) or window <= 0:
        return max_new
    if prompt_len >= window:
        raise GenerationError(
            f"The conversation ({prompt_len} tokens) no longer fits this model's "
            f"context window ({window} tokens). Start a new chat (ctrl+n).",
            title="Context window full",
        )
    return min(max_new, window - prompt_len)
