"""ConversationStore: persistence as it happens, search, export."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from backends.base import StreamFinished
from backends.errors import StorageError
from backends.store.answer_versions import AnswerVersions
from backends.store.conversations import (
    ConversationStore,
    fts_query,
    stats_from_finished,
    title_from_prompt,
)

REPO_ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ConversationStore]:
    s = ConversationStore(tmp_path / "c.sqlite3")
    yield s
    s.close()


def test_round_trip_survives_reopen(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    s = ConversationStore(path)
    cid = s.create_conversation("Rust lifetimes", model_key="smollm2", system_prompt="Be brief.")
    u = s.add_message(cid, "user", "What is a lifetime?")
    a = s.add_message(cid, "assistant", "", model_key="smollm2")
    s.set_message_content(a, "A lifetime is a scope.")
    s.set_message_stats(a, {"completion_tokens": 6, "tokens_per_s": 42.0})
    s.close()

    s = ConversationStore(path)
    conv = s.get_conversation(cid)
    assert conv is not None
    assert (conv.title, conv.model_key, conv.system_prompt, conv.message_count) == (
        "Rust lifetimes",
        "smollm2",
        "Be brief.",
        2,
    )
    msgs = s.messages(cid)
    assert [(m.id, m.role, m.content) for m in msgs] == [
        (u, "user", "What is a lifetime?"),
        (a, "assistant", "A lifetime is a scope."),
    ]
    assert msgs[1].model_key == "smollm2"
    assert msgs[1].stats == {"completion_tokens": 6, "tokens_per_s": 42.0}
    assert msgs[0].stats is None
    assert s.get_conversation(9999) is None
    s.close()


def test_schema_is_versioned_and_wal(tmp_path: Path, store: ConversationStore) -> None:
    raw = sqlite3.connect(store.path)
    assert raw.execute("PRAGMA user_version").fetchone()[0] == store.schema_version >= 1
    assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    raw.close()


def test_newer_schema_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    raw = sqlite3.connect(path)
    raw.execute("PRAGMA user_version = 999")
    raw.close()
    with pytest.raises(StorageError, match="newer localai-tui"):
        ConversationStore(path)


def test_garbage_file_is_reported_not_crashed(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StorageError, match="Move it aside"):
        ConversationStore(path)


def test_list_is_newest_update_first_and_updated_at_bumps(store: ConversationStore) -> None:
    first = store.create_conversation("first")
    second = store.create_conversation("second")
    assert [c.id for c in store.list_conversations()] == [second, first]
    before = store.get_conversation(first)
    assert before is not None
    store.add_message(first, "user", "hello again")
    after = store.get_conversation(first)
    assert after is not None and after.updated_at >= before.updated_at
    assert [c.title for c in store.list_conversations()] == ["first", "second"]
    assert [c.message_count for c in store.list_conversations()] == [1, 0]
    assert len(store.list_conversations(limit=1)) == 1


def test_rename_system_prompt_model_delete(store: ConversationStore) -> None:
    cid = store.create_conversation()
    assert store.get_conversation(cid).title == "New chat"  # type: ignore[union-attr]
    store.add_message(cid, "user", "hi")
    store.rename(cid, "  Greetings  ")
    store.set_system_prompt(cid, "You are terse.")
    store.set_model(cid, "gemma")
    conv = store.get_conversation(cid)
    assert conv is not None
    assert (conv.title, conv.system_prompt, conv.model_key) == (
        "Greetings",
        "You are terse.",
        "gemma",
    )
    store.set_model(cid, None)
    assert store.get_conversation(cid).model_key is None  # type: ignore[union-attr]
    store.delete(cid)
    assert store.get_conversation(cid) is None
    assert store.messages(cid) == []
    assert store.list_conversations() == []


def test_adding_to_a_deleted_conversation_says_so(store: ConversationStore) -> None:
    cid = store.create_conversation()
    store.delete(cid)
    with pytest.raises(StorageError, match="no longer exists"):
        store.add_message(cid, "user", "hello")


def test_streaming_into_a_deleted_message_is_ignored(store: ConversationStore) -> None:
    cid = store.create_conversation()
    mid = store.add_message(cid, "assistant", "")
    store.delete(cid)
    store.set_message_content(mid, "late tokens")  # the worker must not fail
    store.set_message_stats(mid, {"completion_tokens": 2})


def test_delete_messages_from_drops_that_message_and_later(store: ConversationStore) -> None:
    cid = store.create_conversation()
    other = store.create_conversation()
    ids = [store.add_message(cid, r, f"m{i}") for i, r in enumerate(["user", "assistant"] * 2)]
    kept_elsewhere = store.add_message(other, "user", "other chat")
    store.delete_messages_from(cid, ids[2])
    assert [m.content for m in store.messages(cid)] == ["m0", "m1"]
    assert [m.id for m in store.messages(other)] == [kept_elsewhere]
    # a regenerated reply goes after what is left, in order
    new = store.add_message(cid, "user", "m2 edited")
    assert [m.id for m in store.messages(cid)] == [ids[0], ids[1], new]
    assert store.search("m3") == []


def test_streaming_writes_are_visible_to_a_second_connection(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    writer = ConversationStore(path)
    reader = ConversationStore(path)
    cid = writer.create_conversation()
    mid = writer.add_message(cid, "assistant", "")
    text = ""
    for word in ["Once", " upon", " a", " time"]:
        text += word
        writer.set_message_content(mid, text)
        assert reader.messages(cid)[-1].content == text
    writer.close()
    reader.close()


def test_worker_thread_writes_while_ui_thread_reads(store: ConversationStore) -> None:
    cid = store.create_conversation()
    mid = store.add_message(cid, "assistant", "")
    done = threading.Event()
    errors: list[BaseException] = []

    def stream() -> None:
        try:
            for i in range(1, 301):
                store.set_message_content(mid, "x" * i)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            done.set()

    worker = threading.Thread(target=stream)
    worker.start()
    seen = []
    while not done.is_set():
        seen.append(len(store.messages(cid)[0].content))
        store.list_conversations()
    worker.join()
    assert errors == []
    assert seen == sorted(seen)  # never goes backwards
    assert store.messages(cid)[0].content == "x" * 300


_CHILD = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from backends.store.conversations import ConversationStore

    store = ConversationStore(Path(sys.argv[1]))
    cid = store.create_conversation("Crash test")
    store.add_message(cid, "user", "Tell me a story")
    mid = store.add_message(cid, "assistant", "")
    text = ""
    for word in ["Once", " upon", " a", " time", ","]:
        text += word
        store.set_message_content(mid, text)
    print("streamed", flush=True)
    sys.stdin.read()  # wait here until killed
    """
)


def test_kill_9_mid_answer_keeps_the_partial_reply(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(path)],
        cwd=REPO_ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "streamed"
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == -signal.SIGKILL

    store = ConversationStore(path)
    [conv] = store.list_conversations()
    assert conv.title == "Crash test"
    assert [(m.role, m.content) for m in store.messages(conv.id)] == [
        ("user", "Tell me a story"),
        ("assistant", "Once upon a time,"),
    ]
    assert [h.conversation_id for h in store.search("upon")] == [conv.id]
    store.close()


def test_search_finds_words_in_messages_and_titles(store: ConversationStore) -> None:
    pasta = store.create_conversation("Dinner ideas")
    store.add_message(pasta, "user", "How long do I boil spaghetti?")
    store.add_message(pasta, "assistant", "Boil the spaghetti for about nine minutes.")
    rust = store.create_conversation("Rust borrow checker")
    store.add_message(rust, "user", "Why does the borrow checker complain?")

    [hit] = store.search("spaghetti")
    assert hit.conversation_id == pasta and hit.title == "Dinner ideas"
    assert hit.message_id is not None and "spaghetti" in hit.snippet

    [title_hit] = store.search("dinner")
    assert (title_hit.conversation_id, title_hit.message_id) == (pasta, None)

    assert [h.conversation_id for h in store.search("borrow")] == [rust]
    assert [h.conversation_id for h in store.search("SPAG")] == [pasta]  # prefix, any case
    assert store.search("boil rust") == []  # every word must match in one place
    assert store.search("nothing-like-this") == []

    store.rename(rust, "Ownership")
    [renamed] = store.search("ownership")
    assert renamed.conversation_id == rust
    assert store.search("checker")[0].title == "Ownership"


def test_search_without_fts5_falls_back_to_substrings(store: ConversationStore) -> None:
    cid = store.create_conversation("Dinner ideas")
    store.add_message(cid, "user", "boil the spaghetti 100% of the time")
    store.has_fts = False  # as on a SQLite built without FTS5
    [hit] = store.search("SPAGHETTI")
    assert (hit.conversation_id, hit.message_id is not None) == (cid, True)
    assert "spaghetti" in hit.snippet
    assert store.search("dinner")[0].message_id is None
    assert store.search('"foo AND (') == []
    assert store.search("%") == []


@pytest.mark.parametrize(
    "odd",
    ['"foo AND (', "foo AND (", ")", '"', "*", "NEAR(a b", "a:b", "-x", "^", "'; DROP TABLE", ""],
)
def test_search_never_raises_on_odd_input(store: ConversationStore, odd: str) -> None:
    cid = store.create_conversation("Odd")
    store.add_message(cid, "user", "foo bar baz; a:b and x")
    hits = store.search(odd)
    assert all(h.conversation_id == cid for h in hits)
    assert store.search('"foo AND (')[0].conversation_id == cid


def test_fts_query_quotes_everything() -> None:
    assert fts_query('"foo AND (') == '"foo" "AND"'
    assert fts_query("spag") == '"spag"*'
    assert fts_query("   ") is None


def test_search_snippet_is_short_and_one_line(store: ConversationStore) -> None:
    cid = store.create_conversation()
    long = "filler words " * 100 + "\nneedle\n" + " more filler" * 100
    store.add_message(cid, "assistant", long)
    [hit] = store.search("needle")
    assert "needle" in hit.snippet and "\n" not in hit.snippet
    assert len(hit.snippet) < 200 and "…" in hit.snippet


def test_search_limit_and_one_hit_per_conversation(store: ConversationStore) -> None:
    for i in range(5):
        cid = store.create_conversation(f"chat {i}")
        for _ in range(3):
            store.add_message(cid, "user", "common word")
    assert len(store.search("common")) == 5
    assert len(store.search("common", limit=2)) == 2


CODE_ANSWER = "Here:\n\n```python\ndef f(x):\n    return x * 2  # **not bold**\n```\n\nDone."


def test_export_markdown_has_roles_and_content_verbatim(store: ConversationStore) -> None:
    cid = store.create_conversation("Doubling", model_key="smollm2", system_prompt="Be brief.")
    store.add_message(cid, "user", "Write f that doubles x")
    a = store.add_message(cid, "assistant", CODE_ANSWER, model_key="smollm2")
    store.set_message_stats(a, {"completion_tokens": 20, "tokens_per_s": 50.0, "ttft_s": 0.1})
    md = store.export_markdown(cid)
    assert md.startswith("# Doubling\n")
    assert "## System prompt\n\nBe brief." in md
    assert "## User\n\nWrite f that doubles x" in md
    assert "## Assistant · smollm2\n\n" + CODE_ANSWER in md
    assert "20 tokens · 50.0 tok/s" in md


def test_export_shows_a_system_prompt_change_where_it_happened(store: ConversationStore) -> None:
    cid = store.create_conversation("Tone", system_prompt="Be brief.")
    store.add_message(cid, "user", "first question")
    store.add_message(cid, "assistant", "first answer")
    store.set_system_prompt(cid, "Answer like a pirate.")
    store.add_message(cid, "user", "second question")
    md = store.export_markdown(cid)
    assert md.index("## System prompt\n\nBe brief.") < md.index("first question")
    changed = md.index("## System prompt changed\n\nAnswer like a pirate.")
    assert md.index("first answer") < changed < md.index("second question")
    assert md.count("pirate") == 1


def test_export_names_models_and_says_why_answers_stopped(store: ConversationStore) -> None:
    key = "gguf:/models/qwen2.5-0.5b-instruct-q4_k_m.gguf"
    cid = store.create_conversation(model_key=key)
    store.add_message(cid, "user", "q")
    for reason in ("cancelled", "length", "context"):
        a = store.add_message(cid, "assistant", "a", model_key=key)
        store.set_message_stats(a, {"completion_tokens": 3, "finish_reason": reason})
    md = store.export_markdown(cid, {key: "Qwen2.5 0.5B Instruct"})
    assert "gguf:" not in md and "Model: Qwen2.5 0.5B Instruct" in md
    assert "## Assistant · Qwen2.5 0.5B Instruct" in md
    assert "stopped:" not in md and "cancelled" not in md
    assert "· stopped_" in md and "hit the token limit" in md and "context window full" in md
    unnamed = store.export_markdown(cid)  # a model the app no longer knows: its file name
    assert "gguf:" not in unnamed and "qwen2.5-0.5b-instruct-q4_k_m.gguf" in unnamed


def test_drafts_belong_to_their_conversation_and_survive_reopening(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "c.sqlite3")
    one = store.create_conversation("one")
    store.set_draft(one, "half a thought")
    store.set_draft(None, "for the new chat")
    store.close()
    again = ConversationStore(tmp_path / "c.sqlite3")
    assert again.draft(one) == "half a thought"
    assert again.draft(None) == "for the new chat"
    assert again.draft(again.create_conversation("two")) == ""
    again.delete(one)
    assert again.draft(one) == ""


def test_export_closes_a_code_block_cut_off_mid_answer(store: ConversationStore) -> None:
    cid = store.create_conversation()
    store.add_message(cid, "assistant", "```python\nprint(1")
    store.add_message(cid, "user", "go on")
    md = store.export_markdown(cid)
    assert "```python\nprint(1\n```\n\n## User\n\ngo on" in md


def test_export_to_file_writes_unique_files(store: ConversationStore, tmp_path: Path) -> None:
    cid = store.create_conversation("Rust: lifetimes / borrowing?")
    store.add_message(cid, "user", "hello")
    first = store.export_to_file(cid, tmp_path / "out")
    second = store.export_to_file(cid, tmp_path / "out")
    assert first.name == "rust-lifetimes-borrowing.md"
    assert second.name == "rust-lifetimes-borrowing-2.md"
    assert first.read_text(encoding="utf-8") == store.export_markdown(cid)
    default = store.export_to_file(cid)
    assert default.parent.name == "exports" and default.is_file()
    assert default.parent.parent == Path(os.environ["LOCALAI_TUI_DATA_DIR"])


def test_export_of_a_missing_conversation_says_so(store: ConversationStore) -> None:
    with pytest.raises(StorageError, match="no longer exists"):
        store.export_markdown(42)


def test_open_default_uses_the_data_dir() -> None:
    s = ConversationStore.open_default()
    assert s.path == Path(os.environ["LOCALAI_TUI_DATA_DIR"]) / "conversations.sqlite3"
    s.close()
    s.close()  # idempotent
    with pytest.raises(StorageError, match="closed"):
        s.list_conversations()


@pytest.mark.parametrize(
    ("prompt", "title"),
    [
        ("  How do I boil an egg?\nMore detail", "How do I boil an egg?"),
        ("\n\n   \nsecond   line   here", "second line here"),
        ("", "New chat"),
        (
            "Explain the difference between a mutex and a semaphore in operating systems",
            "Explain the difference between a mutex and a…",
        ),
        ("x" * 100, "x" * 47 + "…"),
    ],
)
def test_title_from_prompt(prompt: str, title: str) -> None:
    assert title_from_prompt(prompt) == title
    assert len(title_from_prompt(prompt)) <= 48


def test_stats_from_a_finished_stream_round_trip_and_export(store: ConversationStore) -> None:
    finished = StreamFinished(
        finish_reason="length", prompt_tokens=12, completion_tokens=41, ttft_s=0.2, total_s=1.0
    )
    cid = store.create_conversation("Stats")
    mid = store.add_message(cid, "assistant", "text")
    store.set_message_stats(mid, stats_from_finished(finished))
    stats = store.messages(cid)[0].stats
    assert stats is not None
    assert stats["completion_tokens"] == 41 and stats["tokens_per_s"] == pytest.approx(50.0)
    assert "_41 tokens · 50.0 tok/s · first token 0.20 s · hit the token limit_" in (
        store.export_markdown(cid)
    )


def test_regenerated_answers_are_kept_as_versions_to_flip_between(
    store: ConversationStore,
) -> None:
    cid = store.create_conversation()
    prompt = store.add_message(cid, "user", "a poem")
    answer = store.add_message(cid, "assistant", "first")
    for text in ("second", "third"):  # what a regenerate does: keep, delete, add
        store.versions.keep(answer)
        store.delete_messages_from(cid, answer)
        answer = store.add_message(cid, "assistant", text)
    assert store.versions.of(answer) == AnswerVersions(3, 3)
    assert store.versions.flip(answer, +1) is None  # the newest is shown
    assert store.versions.flip(answer, -1) == AnswerVersions(2, 3)
    assert store.messages(cid)[-1].content == "second"  # what the next prompt builds on
    assert store.versions.flip(answer, -1) == AnswerVersions(1, 3)
    assert store.messages(cid)[-1].content == "first"
    assert store.versions.flip(answer, -1) is None
    assert store.versions.flip(answer, +1) == AnswerVersions(2, 3)
    assert store.versions.flip(answer, +1) == AnswerVersions(3, 3)
    assert store.messages(cid)[-1].content == "third"
    store.versions.flip(answer, -1)  # regenerating while "second" shows keeps the order
    store.versions.keep(answer)
    store.delete_messages_from(cid, answer)
    answer = store.add_message(cid, "assistant", "fourth")
    texts = []
    for _ in range(3):
        store.versions.flip(answer, -1)
        texts.append(store.messages(cid)[-1].content)
    assert texts == ["third", "second", "first"]
    store.delete_messages_from(cid, prompt)  # an edited prompt takes its answers with it
    assert store.versions.of(store.add_message(cid, "assistant", "x")) == AnswerVersions(1, 1)
