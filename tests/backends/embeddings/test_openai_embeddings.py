"""Remote embeddings against a local server speaking /v1/embeddings."""

from __future__ import annotations

import pytest

from backends.embeddings.protocol import EmbeddingEngine
from backends.errors import UnsupportedModel
from backends.registry import create_embedding_engine
from tests.fixtures.openai_media_server import EMBED_DIM, OpenAIMediaServer


def test_vectors_in_order_and_batched(media_server: OpenAIMediaServer) -> None:
    engine = create_embedding_engine("openai_embeddings")
    assert isinstance(engine, EmbeddingEngine)
    engine._batch = 2  # type: ignore[attr-defined]  # three requests for five texts
    engine.load(media_server.spec("nomic-embed-text", "openai_embeddings"))
    texts = ["a", "bb", "ccc", "dddd", "eeeee"]
    result = engine.embed(texts)
    assert len(result.vectors) == 5 and result.dimensions == EMBED_DIM
    assert result.vectors[0] != result.vectors[1]
    assert media_server.paths("POST").count("/v1/embeddings") == 3
    assert result.prompt_tokens == 9


def test_a_chat_model_is_refused_at_load(media_server: OpenAIMediaServer) -> None:
    with pytest.raises(UnsupportedModel, match="does not have 'tiny-chat'"):
        create_embedding_engine("openai_embeddings").load(
            media_server.spec("tiny-chat", "openai_embeddings")
        )
