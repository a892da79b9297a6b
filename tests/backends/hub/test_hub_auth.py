"""Gated and private repos: AuthRequired naming the repo, and the token never shown."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from backends.errors import AuthRequired, ModelNotFound
from backends.hub.client import HubClient
from backends.hub.token import HubToken, resolve_token, save_token
from tests.fixtures.hub_server import GOOD_TOKEN, UNGRANTED_TOKEN, HubServer

GATED = "acme/gated-llama"
WRONG = "hf_wrongTOKENnotKNOWN987654321"


def _assert_no_token(exc: BaseException, token: str) -> None:
    text = f"{exc} {exc!r} {exc.args} {getattr(exc, 'message', '')} {exc.__cause__!r}"
    assert token not in text


def test_gated_download_without_token(hub: HubServer, make_queue) -> None:
    q = make_queue()
    job = q.add(GATED, allow_patterns=["model.safetensors"])
    snap = q.wait(job, ["done", "failed"])
    assert snap.state == "failed" and snap.error_title == AuthRequired.title
    assert GATED in (snap.error_message or "")
    assert f"https://huggingface.co/{GATED}" in (snap.error_message or "")


@pytest.mark.parametrize("token", [WRONG, UNGRANTED_TOKEN])
def test_gated_with_wrong_or_ungranted_token(hub: HubServer, cache_dir: Path, token: str) -> None:
    from backends.hub.resumable_download import fetch_metadata

    client = HubClient(hub.endpoint, token, False, cache_dir=cache_dir)
    with pytest.raises(AuthRequired) as info:
        fetch_metadata(client, GATED, "model.safetensors", "main")
    assert GATED in str(info.value)
    _assert_no_token(info.value, token)
    assert token not in repr(client)


def test_gated_with_granted_token_downloads(hub: HubServer, cache_dir: Path, make_queue) -> None:
    client = HubClient(hub.endpoint, GOOD_TOKEN, False, cache_dir=cache_dir)
    q = make_queue(client)
    job = q.add(GATED, allow_patterns=["model.safetensors"])
    assert q.wait(job, ["done", "failed"]).state == "done"
    assert GOOD_TOKEN not in (q.state_file.read_text())


def test_gated_card_is_public_private_repo_is_not(client: HubClient) -> None:
    card = client.model_card(GATED)
    assert card.gated and card.readme.startswith("# Gated")
    with pytest.raises(AuthRequired) as info:
        client.model_card("acme/secret-model")
    assert "acme/secret-model" in str(info.value)
    with pytest.raises(ModelNotFound):
        client.with_token(GOOD_TOKEN).model_card("acme/does-not-exist")


def test_token_store_is_private_and_precedence(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    assert resolve_token() is None
    (tmp_path / "hf").mkdir()
    (tmp_path / "hf" / "token").write_text("hf_fromLOGINfile")
    assert resolve_token() == HubToken("hf_fromLOGINfile") and resolve_token().source == "hf-login"
    saved = save_token("hf_enteredINapp\n")
    from backends.hub.token import app_token_file

    mode = stat.S_IMODE(os.stat(app_token_file()).st_mode)
    assert mode == 0o600
    assert resolve_token() == saved and resolve_token().source == "app"
    monkeypatch.setenv("HF_TOKEN", "hf_fromENV")
    assert resolve_token().source == "env"
    assert "hf_fromENV" not in repr(resolve_token()) and "hf_fromENV" not in str(resolve_token())


def test_whoami_confirms_or_rejects_a_token(hub: HubServer) -> None:
    assert HubClient(hub.endpoint, GOOD_TOKEN).whoami() == "tester"
    with pytest.raises(AuthRequired) as info:
        HubClient(hub.endpoint, WRONG).whoami()
    assert "rejected" in str(info.value) and WRONG not in str(info.value)
    with pytest.raises(AuthRequired):
        HubClient(hub.endpoint, None).whoami()
