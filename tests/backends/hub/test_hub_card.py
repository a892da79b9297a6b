"""Model card: README, license, files, GGUF quant groups with fit marks."""

from __future__ import annotations

from backends.hub.client import HubClient
from backends.models.gguf_quants import MiB, context_bytes, quant_label, split_part


def test_card_of_gguf_repo_groups_quants_and_attaches_mmproj(client: HubClient) -> None:
    card = client.model_card("acme/tiny-chat-GGUF")
    assert card.readme.startswith("# Tiny Chat GGUF")  # front matter removed
    assert card.license == "apache-2.0"
    assert "gguf" in card.tags
    assert {f.path: f.size for f in card.files}["tiny-chat-Q8_0.gguf"] == 520_000
    labels = [g.label for g in card.quant_groups]
    assert labels == ["IQ3_XXS", "Q4_K_M", "Q5_K_M", "Q8_0", "F16"]  # smallest first
    f16 = card.quant_groups[-1]
    assert f16.is_split and f16.size_bytes == 980_000
    assert [f.path for f in f16.files] == [
        "tiny-chat-F16-00001-of-00002.gguf",
        "tiny-chat-F16-00002-of-00002.gguf",
    ]
    q4 = card.quant_groups[1]
    assert q4.mmproj is not None and q4.mmproj.path == "mmproj-tiny-chat-f16.gguf"
    assert q4.download_paths() == ["tiny-chat-Q4_K_M.gguf", "mmproj-tiny-chat-f16.gguf"]
    assert q4.fit.place == "unknown"  # no free sizes given


def test_fit_marks_follow_free_memory(client: HubClient) -> None:
    n_ctx = 2048
    probe = client.model_card("acme/tiny-chat-GGUF", n_ctx=n_ctx)
    q4, q8 = probe.quant_groups[1], probe.quant_groups[3]
    # formula: weights + mmproj + n_ctx * kv_per_token + 64 MiB + 5 % of weights
    assert q4.fit.required_bytes == 300_000 + 120_000 + context_bytes(300_000, "Q4_K_M", n_ctx)
    assert q4.fit.context_bytes > 64 * MiB
    between = (q4.fit.required_bytes + q8.fit.required_bytes) // 2
    card = client.model_card(
        "acme/tiny-chat-GGUF", n_ctx=n_ctx, free_vram=between, free_ram=10 * 1024 * MiB
    )
    places = {g.label: g.fit.place for g in card.quant_groups}
    assert places["IQ3_XXS"] == places["Q4_K_M"] == "gpu"
    assert places["Q8_0"] == places["F16"] == "ram"
    tight = client.model_card("acme/tiny-chat-GGUF", n_ctx=n_ctx, free_vram=None, free_ram=1000)
    assert all(g.fit.place == "none" and not g.fit.fits for g in tight.quant_groups)


def test_card_of_transformers_repo_has_no_quant_groups(client: HubClient) -> None:
    card = client.model_card("acme/tiny-llama")
    assert card.engine == "transformers" and not card.is_gguf
    assert card.readme.startswith("# Tiny Llama")
    assert card.total_bytes == sum(f.size for f in card.files)


def test_quant_names_and_split_parts() -> None:
    assert quant_label("Qwen2.5-7B-Instruct-Q4_K_M.gguf") == "Q4_K_M"
    assert quant_label("gemma-3-27b-it-UD-IQ2_XXS.gguf") == "IQ2_XXS"
    assert quant_label("model.Q8_0-00002-of-00003.gguf") == "Q8_0"
    assert quant_label("Meta-Llama-3-8B.BF16.gguf") == "BF16"
    assert quant_label("mmproj-model-f16.gguf") == "F16"
    assert quant_label("weird.gguf") == "unknown"
    assert split_part("x-Q4_0-00002-of-00003.gguf") == (2, 3)
