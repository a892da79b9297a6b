"""Reading a long prompt in chunks, so a stop lands between them (transformers engine)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

PROMPT_CHUNK_S = 0.4  # a stop during the prompt lands within about this long
FIRST_PROMPT_CHUNK = 16  # tokens; later chunks are sized from the measured rate


def read_prompt(model: Any, input_ids: torch.Tensor, stopped: Callable[[], bool]) -> Any:
    """Run all but the last prompt token through the model in chunks, filling a KV cache,
    and check `stopped` between chunks.

    `generate` reads the whole prompt in one forward pass that nothing interrupts (a 10 KB
    prompt is minutes on a large model on CPU); given this cache it reads only the last
    token. Returns the cache, False when stopped, or None when this model cannot be read
    in chunks (generate then reads the prompt itself, as before).
    """
    from transformers import DynamicCache

    head = int(input_ids.shape[-1]) - 1
    if head <= FIRST_PROMPT_CHUNK:
        return None  # short: one pass is as quick to stop
    cache = DynamicCache(config=model.config)
    body = model.base_model  # hidden states only: no logits over the vocabulary per token
    argument = cache_argument(body)
    position, chunk = 0, FIRST_PROMPT_CHUNK
    try:
        while position < head:
            if stopped():
                return False
            end = min(position + chunk, head)
            began = time.perf_counter()
            body(input_ids=input_ids[:, position:end], use_cache=True, **{argument: cache})
            rate = (end - position) / max(time.perf_counter() - began, 1e-6)
            position = end
            chunk = max(int(rate * PROMPT_CHUNK_S), FIRST_PROMPT_CHUNK)
    except (TypeError, ValueError, NotImplementedError) as error:
        log.info("reading the prompt in chunks failed (%s); generate reads it whole", error)
        return None
    return False if stopped() else cache


def cache_argument(module: Any) -> str:
    """transformers 5.2x renamed `past_key_values` to `cache` (the old name warns)."""
    import inspect

    return "cache" if "cache" in inspect.signature(module.forward).parameters else "past_key_values"
