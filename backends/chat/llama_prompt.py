"""Prompt-side helpers of the llama.cpp engine: evaluating a long prompt so Stop works, and
the message for a conversation that no longer fits the context window."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

from backends.models.gguf_file import GGUFInfo

if TYPE_CHECKING:
    from llama_cpp import Llama


def context_full_message(prompt_tokens: int, n_ctx: int, info: GGUFInfo, key: str) -> str:
    """Why a conversation does not fit, naming the setting that makes room when there is one."""
    head = (
        f"The conversation ({prompt_tokens} tokens) no longer fits the context window "
        f"({n_ctx} tokens)."
    )
    if info.context_length is not None and n_ctx >= info.context_length:
        return f"{head} That is this model's maximum: start a new chat (ctrl+n)."
    from backends.paths import config_file

    bigger = min(n_ctx * 2, info.context_length or n_ctx * 2)
    return (
        f"{head} Start a new chat (ctrl+n), or give this model a larger window in "
        f'{config_file()}: [models."{key}"] n_ctx = {bigger}, then load it again.'
    )


PROMPT_CHUNK_S = 0.4  # prompt evaluation checks for a stop at least about this often
FIRST_PROMPT_CHUNK = 16  # tokens; later chunks are sized from the measured rate


def evaluate_prompt(llm: Llama, tokens: list[int], cancel: threading.Event | None) -> bool:
    """Evaluate all but the last prompt token in chunks, checking `cancel` between them.

    `Llama.generate` evaluates the whole prompt in one call that nothing interrupts: a
    10 KB prompt to the demo model on 2 busy cores kept "stopping…" for ~20 s (and quitting
    waited as long). Chunks sized from the measured rate to take about PROMPT_CHUNK_S bound
    that wait. What was evaluated stays in the KV cache: `generate` then finds all but the
    last token as a cached prefix, and a prompt stopped half-way is a prefix the next
    answer reuses. Returns False when cancelled.
    """
    if cancel is None:
        return True
    head = tokens[:-1]
    cached = 0
    for have, want in zip(llm._input_ids, head, strict=False):
        if have != want:
            break
        cached += 1
    if cached < llm.n_tokens:  # drop what differs, as generate() would
        if cached == 0 or not llm._ctx.kv_cache_seq_rm(-1, cached, -1):
            llm.reset()
            cached = 0
        llm.n_tokens = cached
    position, chunk = cached, FIRST_PROMPT_CHUNK
    while position < len(head):
        if cancel.is_set():
            return False
        batch = head[position : position + chunk]
        began = time.perf_counter()
        llm.eval(batch)
        rate = len(batch) / max(time.perf_counter() - began, 1e-6)
        position += len(batch)
        chunk = int(min(max(rate * PROMPT_CHUNK_S, FIRST_PROMPT_CHUNK), llm.n_batch))
    return not cancel.is_set()
