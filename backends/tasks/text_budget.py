"""How much text a model reads, and cutting a longer text to it (said, never silent).

The pipelines would either fail on an over-long text (position embeddings run out) or
truncate it without a word; here the text itself is cut at the last token that fits, so
the view shows what the model saw and says how many tokens that was.
"""

from __future__ import annotations

from typing import Any

from backends.tasks.protocol import TaskOptions

_NO_LIMIT = 1_000_000  # tokenizers without a limit say model_max_length = 1e30


class TextBudget:
    def __init__(self, tokenizer: Any, config: dict[str, Any]) -> None:
        self._tokenizer = tokenizer
        limit = getattr(tokenizer, "model_max_length", None) if tokenizer is not None else None
        if not isinstance(limit, int) or limit >= _NO_LIMIT:
            limit = config.get("max_position_embeddings")
            if isinstance(limit, int) and config.get("model_type") in ("roberta", "xlm-roberta"):
                limit -= 2  # RoBERTa's positions start after the padding index
        self.max_tokens: int | None = limit if isinstance(limit, int) and limit > 0 else None

    def hypothesis_tokens(self, options: TaskOptions) -> int:
        """Tokens the zero-shot hypothesis adds beside the text (its longest label)."""
        if self._tokenizer is None or not options.candidate_labels:
            return 0
        longest = max(options.candidate_labels, key=len)
        hypothesis = options.hypothesis_template.format(longest)
        return len(self._tokenizer(hypothesis, add_special_tokens=False)["input_ids"]) + 1

    def fit(self, text: str, *, reserve: int = 0) -> tuple[str, int | None]:
        """(text, None) when it fits; else (its start that fits, the tokens kept)."""
        tokenizer, limit = self._tokenizer, self.max_tokens
        if tokenizer is None or limit is None:
            return text, None
        room = limit - tokenizer.num_special_tokens_to_add(pair=reserve > 0) - reserve
        if room <= 0:
            return text, None
        if len(text) <= room:  # a token covers at least one character
            return text, None
        encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        ids = encoded["input_ids"]
        if len(ids) <= room:
            return text, None
        end = int(encoded["offset_mapping"][room - 1][1])
        return text[:end], room
