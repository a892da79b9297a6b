"""Token ids from transformers' `generate` -> whole pieces of text for the reading thread."""

from __future__ import annotations

import queue
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedTokenizerBase


class TokenStreamer:
    """Receives token ids from `generate`, hands whole UTF-8 text to the reading thread.

    Unlike TextIteratorStreamer (which waits for a space before showing a word), every
    token's text is passed on as soon as it decodes to whole characters. Text is decoded
    incrementally with a prefix window (as TGI and vLLM do), so SentencePiece spacing
    stays right and long answers cost O(n). It also counts the generated tokens, so
    finish reasons and token counts are exact.
    """

    _END = object()

    def __init__(self, tokenizer: PreTrainedTokenizerBase, eos_ids: set[int]) -> None:
        self._tokenizer = tokenizer
        self._eos_ids = eos_ids
        self._queue: queue.Queue[object] = queue.Queue()
        self._prompt_seen = False
        self._tokens: list[int] = []
        self._prefix_offset = 0  # decoding starts here, so the first new word keeps its space
        self._read_offset = 0  # text of tokens before this has been passed on
        self.generated = 0
        self.ended_by_eos = False

    def _decode(self, tokens: list[int]) -> str:
        return str(self._tokenizer.decode(tokens, skip_special_tokens=True))

    def put(self, value: torch.Tensor) -> None:
        if not self._prompt_seen:  # generate first hands over the prompt
            self._prompt_seen = True
            return
        for token in value.reshape(-1).tolist():
            if token in self._eos_ids:
                self.ended_by_eos = True
                continue
            self.generated += 1
            self._tokens.append(token)
        prefix = self._decode(self._tokens[self._prefix_offset : self._read_offset])
        text = self._decode(self._tokens[self._prefix_offset :])
        if len(text) > len(prefix) and not text.endswith("\ufffd"):  # whole characters only
            self._queue.put(text[len(prefix) :])
            self._prefix_offset, self._read_offset = self._read_offset, len(self._tokens)

    def end(self) -> None:
        self._queue.put(self._END)

    def fail(self, error: BaseException) -> None:
        self._queue.put(error)

    def __iter__(self) -> Iterator[str]:
        while True:
            item = self._queue.get()
            if item is self._END:
                return
            if isinstance(item, BaseException):
                raise item
            assert isinstance(item, str)
            yield item
