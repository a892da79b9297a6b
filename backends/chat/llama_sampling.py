"""llama.cpp's sampling loop: token by token, so cancel, token counts and streaming are exact.

llama-cpp-python's own completion stream holds back all further text after a token that
ends in an incomplete UTF-8 sequence; decoding bytes incrementally here shows text as soon
as it is whole.
"""

from __future__ import annotations

import codecs
import random
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from backends.base import ChatEvent, FinishReason, GenerationParams, StreamFinished, TextDelta
from backends.chat.llama_prompt import evaluate_prompt
from backends.chat.transcript import StopSequenceFilter
from backends.errors import GenerationError, OutOfMemory

if TYPE_CHECKING:
    from llama_cpp import Llama


def sample_answer(
    llm: Llama,
    tokens: list[int],
    max_tokens: int,
    params: GenerationParams,
    stops: list[str],
    cancel: threading.Event | None,
    started: float,
) -> Iterator[ChatEvent]:
    """Sample up to `max_tokens` after `tokens`, yielding text deltas and how it ended."""
    import llama_cpp

    llm.set_seed(params.seed if params.seed is not None else random.randrange(2**31))
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    stop_filter = StopSequenceFilter(stops)
    completion: list[int] = []
    ttft: float | None = None
    finish: FinishReason = "length"
    try:
        if not evaluate_prompt(llm, tokens, cancel):
            yield StreamFinished(
                finish_reason="cancelled",
                prompt_tokens=len(tokens),
                completion_tokens=0,
                ttft_s=None,
                total_s=time.perf_counter() - started,
            )
            return
        for token in llm.generate(
            tokens,
            top_k=params.top_k,
            top_p=params.top_p,
            min_p=0.0,
            temp=max(params.temperature, 0.0),
            repeat_penalty=params.repetition_penalty,
        ):
            if cancel is not None and cancel.is_set():
                finish = "cancelled"
                break
            if llama_cpp.llama_vocab_is_eog(llm._model.vocab, token):
                finish = "stop"
                break
            completion.append(token)
            text = stop_filter.feed(decoder.decode(llm.detokenize([token])))
            if ttft is None:  # SentencePiece answers start with the word's space
                text = text.lstrip(" ")
            if text:
                if ttft is None:
                    ttft = time.perf_counter() - started
                yield TextDelta(text)
            if stop_filter.stopped:
                finish = "stop"
                break
            if len(completion) >= max_tokens:
                if max_tokens < params.max_new_tokens:
                    finish = "context"  # the window filled before max_new_tokens
                break
    except MemoryError as error:
        raise OutOfMemory(
            "Ran out of memory while answering. Lower the context size or pick a smaller "
            "quantisation."
        ) from error
    except RuntimeError as error:
        raise GenerationError(f"llama.cpp failed while answering: {error}.") from error
    if finish != "cancelled" and cancel is not None and cancel.is_set():
        finish = "cancelled"
    tail = stop_filter.feed(decoder.decode(b"", final=True)) + stop_filter.flush()
    if tail and finish != "cancelled":
        yield TextDelta(tail)
    yield StreamFinished(
        finish_reason=finish,
        prompt_tokens=len(tokens),
        completion_tokens=len(completion),
        ttft_s=ttft,
        total_s=time.perf_counter() - started,
    )
