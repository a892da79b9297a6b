"""The sampling parameters of the panel, kept in the store so a restart brings them back.

LM Studio and Ollama users expect the temperature they set to stay set; the config file's
`[sampling]` is the default for a first start (and for values this version cannot read).
"""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING

from backends.base import GenerationParams

if TYPE_CHECKING:
    from backends.store.conversations import ConversationStore

SAMPLING = "sampling"  # the store's name for them


def kept_params(store: ConversationStore, default: GenerationParams) -> GenerationParams:
    """The parameters last set in the panel, else `default`."""
    raw = store.state(SAMPLING)
    if raw is None:
        return default
    try:
        values = json.loads(raw)
        names = {f.name for f in dataclasses.fields(GenerationParams)}
        return dataclasses.replace(default, **{k: v for k, v in values.items() if k in names})
    except (ValueError, TypeError, AttributeError):
        return default


def keep_params(store: ConversationStore, params: GenerationParams) -> None:
    store.set_state(SAMPLING, json.dumps(dataclasses.asdict(params)))
