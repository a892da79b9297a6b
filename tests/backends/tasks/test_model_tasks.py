"""The tasks transformers 5 has no pipeline for, on the model's own classes, and speech
recognition with timestamps: each result equals what the model itself gives (computed here
straight from the model), in a host and in-process; refusals say what to do."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from backends.errors import UnsupportedModel
from backends.registry import create_task_engine
from backends.tasks.chat_prompts import chat_prompt
from backends.tasks.pipeline_outputs import to_result
from backends.tasks.protocol import (
    Answer,
    BatchFinished,
    GeneratedText,
    ItemDone,
    ItemFailed,
    TaskInput,
    TaskLoadOptions,
    TaskOptions,
    Transcript,
)
from backends.tasks.task_detection import architecture_task, read_config
from backends.tasks.task_inputs import WrongInput
from tests.fixtures.tasks import task_spec
from tests.fixtures.tiny_generative_tasks import (
    reference_answer,
    reference_caption,
    reference_generate,
)

pytestmark = pytest.mark.slow
CPU = {"device": "cpu", "threads": 1}


def text(value: str) -> TaskInput:
    return TaskInput("text", value, value[:20])


def run_one(folder: Path, task: str, item: TaskInput, options: TaskOptions, hosted: bool = False):
    engine = create_task_engine("transformers_tasks", hosted=hosted)
    engine.load(task_spec(folder), TaskLoadOptions(task, **CPU))
    try:
        events = list(engine.run([item], options))
    finally:
        engine.unload()
    done = [e for e in events if isinstance(e, (ItemDone, ItemFailed))]
    assert len(done) == 1
    return done[0]


@pytest.mark.parametrize("hosted", [False, True])
def test_t5_summarises_with_its_prefix(
    generative_task_models: dict[str, Path], hosted: bool
) -> None:
    value = "paris is the capital of france and the city of the river"
    done = run_one(generative_task_models["t5"], "summarization", text(value), TaskOptions(),
                   hosted=hosted)  # fmt: skip
    assert isinstance(done, ItemDone) and isinstance(done.result, GeneratedText)
    expected = reference_generate(generative_task_models["t5"], "summarize: " + value)
    assert expected and done.result.text == expected


def test_marian_translates(generative_task_models: dict[str, Path]) -> None:
    value = "the company lives in london"
    done = run_one(generative_task_models["marian"], "translation", text(value),
                   TaskOptions(max_new_tokens=12))  # fmt: skip
    assert isinstance(done, ItemDone)
    expected = reference_generate(generative_task_models["marian"], value, 12)
    assert expected and done.result == GeneratedText(expected)


@pytest.mark.parametrize("hosted", [False, True])
def test_t5_translates_to_the_target_chosen(
    generative_task_models: dict[str, Path], hosted: bool
) -> None:
    """T5 lists several translation prefixes: the first (sorted) by default, the one
    chosen when the user picks another, and a pair it lacks is refused with the offer."""
    folder, value = generative_task_models["t5"], "the company lives in london"
    engine = create_task_engine("transformers_tasks", hosted=hosted)
    engine.load(task_spec(folder), TaskLoadOptions("translation", **CPU))
    try:
        assert engine.model_info().targets == ("translation_en_to_de", "translation_en_to_fr")
        results = {}
        for target in ("", "translation_en_to_fr"):
            options = TaskOptions(max_new_tokens=12, target=target)
            [done] = [e for e in engine.run([text(value)], options) if isinstance(e, ItemDone)]
            assert isinstance(done.result, GeneratedText)
            results[target] = done.result.text
        with pytest.raises(WrongInput, match="does not translate en → ja; it offers: en → de"):
            list(engine.run([text(value)], TaskOptions(target="translation_en_to_ja")))
    finally:
        engine.unload()
    german = reference_generate(folder, "de: " + value, 12)
    french = reference_generate(folder, "translate English to French: " + value, 12)
    assert german != french  # the random model tells the prefixes apart
    assert results == {"": german, "translation_en_to_fr": french}


def test_a_batch_goes_through_generate_padded_and_comes_back_per_item(
    generative_task_models: dict[str, Path],
) -> None:
    """batch_size 2 over 3 texts of different lengths: one padded generate per pair, one
    event per text, in order, each what the model writes for that text alone; a cancel
    after the first item keeps the second (its summary came out of the same generate; it
    was dropped) and stops the run there, the next batch never generated."""
    folder = generative_task_models["t5"]
    values = ["paris is the capital", "the company lives in london and works in paris", "a"]
    engine = create_task_engine("transformers_tasks", hosted=False)
    engine.load(task_spec(folder), TaskLoadOptions("summarization", **CPU))
    try:
        options = TaskOptions(max_new_tokens=8, batch_size=2)
        events = list(engine.run([text(v) for v in values], options))
        done = [e for e in events if isinstance(e, ItemDone)]
        cancel = threading.Event()
        stopped = []
        for event in engine.run([text(v) for v in values], options, cancel):
            stopped.append(event)
            if isinstance(event, ItemDone):
                cancel.set()
    finally:
        engine.unload()
    assert [d.index for d in done] == [0, 1, 2]
    expected = [reference_generate(folder, "summarize: " + v, 8) for v in values]
    assert [d.result for d in done] == [GeneratedText(e) for e in expected]
    assert [e.index for e in stopped if isinstance(e, ItemDone)] == [0, 1]
    assert [e.result for e in stopped if isinstance(e, ItemDone)] == [
        GeneratedText(e) for e in expected[:2]
    ]
    assert isinstance(stopped[-1], BatchFinished) and stopped[-1].reason == "cancelled"
    assert stopped[-1].done == 2


def test_question_answering_finds_the_models_best_span(
    generative_task_models: dict[str, Path],
) -> None:
    folder = generative_task_models["qa"]
    context, question = "john smith lives in paris and works in london", "where does he live?"
    done = run_one(folder, "question-answering", text(context), TaskOptions(question=question))
    assert isinstance(done, ItemDone) and isinstance(done.result, Answer)
    answer, score = reference_answer(folder, question, context)
    assert done.result.answer == answer == context[done.result.start : done.result.end]
    assert done.result.score == pytest.approx(score, rel=1e-4)
    assert done.result.question == question


def test_question_answering_needs_a_question_and_cuts_a_long_context(
    generative_task_models: dict[str, Path],
) -> None:
    engine = create_task_engine("transformers_tasks", hosted=False)
    engine.load(task_spec(generative_task_models["qa"]), TaskLoadOptions("question-answering",
                                                                         **CPU))  # fmt: skip
    with pytest.raises(WrongInput, match="Type the question"):
        list(engine.run([text("john lives in paris")], TaskOptions()))
    long = " ".join(["john lives in paris"] * 40)
    events = list(engine.run([text(long)], TaskOptions(question="where?")))
    done = next(e for e in events if isinstance(e, ItemDone))
    assert done.truncated_to is not None and done.text is not None and len(done.text) < len(long)
    assert isinstance(done.result, Answer) and done.result.end <= len(done.text)


def test_captioner_describes_a_picture(
    generative_task_models: dict[str, Path], task_picture: Path
) -> None:
    folder = generative_task_models["captioner"]
    item = TaskInput("image", str(task_picture), task_picture.name)
    done = run_one(folder, "image-to-text", item, TaskOptions(max_new_tokens=10))
    assert isinstance(done, ItemDone)
    expected = reference_caption(folder, task_picture, 10)
    assert expected and done.result == GeneratedText(expected)
    not_a_picture = run_one(folder, "image-to-text", text("a cat"), TaskOptions())
    assert isinstance(not_a_picture, ItemFailed)
    assert "takes an image; the typed text is text" in not_a_picture.message


def test_ctc_speech_recognition_has_word_times(
    generative_task_models: dict[str, Path], tmp_path: Path
) -> None:
    from transformers import pipeline

    from backends.tasks.wav_audio import read_audio
    from tests.fixtures.tiny_tasks import write_tone_wav

    folder = generative_task_models["ctc"]
    wav = write_tone_wav(tmp_path / "tone.wav", rate=16000, seconds=1.0)
    item = TaskInput("audio", str(wav), wav.name)
    done = run_one(folder, "automatic-speech-recognition", item, TaskOptions())
    assert isinstance(done, ItemDone) and isinstance(done.result, Transcript)
    raw = pipeline(task="automatic-speech-recognition", model=str(folder))(
        {"raw": read_audio(wav, 16000), "sampling_rate": 16000}, return_timestamps="word"
    )
    assert done.result == to_result("automatic-speech-recognition", raw)
    starts = [c[0] for c in done.result.chunks]
    assert len(starts) > 1 and starts == sorted(starts) and done.result.chunks[-1][1] <= 1.0  # type: ignore[operator]


def test_whisper_in_transformers_format_has_segment_times(
    generative_task_models: dict[str, Path], tmp_path: Path
) -> None:
    from transformers import pipeline

    from backends.tasks.wav_audio import read_audio
    from tests.fixtures.tiny_tasks import write_tone_wav

    folder = generative_task_models["whisper"]
    wav = write_tone_wav(tmp_path / "tone.wav", rate=16000, seconds=1.0)
    done = run_one(folder, "automatic-speech-recognition", TaskInput("audio", str(wav)),
                   TaskOptions())  # fmt: skip
    assert isinstance(done, ItemDone) and isinstance(done.result, Transcript)
    raw = pipeline(task="automatic-speech-recognition", model=str(folder))(
        {"raw": read_audio(wav, 16000), "sampling_rate": 16000}, return_timestamps=True
    )
    assert raw["chunks"] and done.result == to_result("automatic-speech-recognition", raw)


def test_document_question_answering_through_the_pipeline(
    generative_task_models: dict[str, Path], task_picture: Path, tmp_path: Path
) -> None:
    from PIL import Image
    from transformers import pipeline

    from backends.tasks.model_tasks import check_document_model

    folder = generative_task_models["donut"]
    item = TaskInput("image", str(task_picture), task_picture.name)
    options = TaskOptions(question="what is the total?")
    done = run_one(folder, "document-question-answering", item, options)
    assert isinstance(done, ItemDone) and isinstance(done.result, Answer)
    with Image.open(task_picture) as image:
        raw = pipeline(task="document-question-answering", model=str(folder))(
            image=image.convert("RGB"), question="what is the total?"
        )
    assert raw[0]["answer"] and done.result == Answer(raw[0]["answer"], None, -1, -1)
    with pytest.raises(WrongInput, match="Type the question"):
        run_one(folder, "document-question-answering", item, TaskOptions())
    layoutlm = {"model_type": "layoutlm", "architectures": ["LayoutLMForQuestionAnswering"]}
    with pytest.raises(UnsupportedModel, match="pytesseract is not installed") as caught:
        check_document_model(layoutlm, tmp_path)
    assert caught.value.title == "Needs OCR"


def test_a_model_of_another_kind_is_refused_with_the_chat_offered(
    generative_task_models: dict[str, Path],
) -> None:
    engine = create_task_engine("transformers_tasks", hosted=False)
    for task in ("summarization", "image-to-text"):
        with pytest.raises(UnsupportedModel, match="press ctrl\\+g to ask the chat") as caught:
            engine.load(task_spec(generative_task_models["qa"]), TaskLoadOptions(task, **CPU))
        assert caught.value.title == "Not a model for this task"
    with pytest.raises(UnsupportedModel, match="not a question-answering model"):
        engine.load(task_spec(generative_task_models["marian"]),
                    TaskLoadOptions("question-answering", **CPU))  # fmt: skip
    assert not engine.loaded


def test_architectures_name_the_new_tasks(generative_task_models: dict[str, Path]) -> None:
    tasks = {k: architecture_task(read_config(f)) for k, f in generative_task_models.items()}
    assert tasks == {
        "t5": "summarization", "marian": "translation", "qa": "question-answering",
        "captioner": "image-to-text", "ctc": "automatic-speech-recognition",
        "whisper": "automatic-speech-recognition", "donut": "image-to-text",
    }  # fmt: skip


def test_chat_prompts_say_the_task() -> None:
    assert chat_prompt("summarization", " a text ").endswith("a text")
    assert "Question: where?" in chat_prompt("question-answering", "ctx", "where?")
    with pytest.raises(WrongInput, match="question"):
        chat_prompt("question-answering", "ctx", "")
    with pytest.raises(WrongInput, match="Type the text"):
        chat_prompt("translation", "  ")
    page = chat_prompt("document-question-answering", "", "the total?")
    assert page == "Answer this question from the page in the picture: the total?"


def test_cancel_stops_a_generation_at_the_next_token(
    generative_task_models: dict[str, Path],
) -> None:
    """A cancel set while the model writes ends `generate` after the current token, and the
    cut-off text is not given as a result."""
    import threading

    from transformers import StoppingCriteria

    from backends.tasks.model_tasks import Seq2SeqRunner

    runner = Seq2SeqRunner(generative_task_models["marian"], "cpu", None, False)
    cancel = threading.Event()
    steps: list[int] = []
    original = runner.model.generate

    def generate(**kwargs: object) -> object:
        class CancelAtThird(StoppingCriteria):
            def __call__(self, ids, scores, **_):  # type: ignore[no-untyped-def]
                steps.append(ids.shape[1])
                if len(steps) == 3:
                    cancel.set()  # as if the user pressed Esc while token 3 was written
                return ids[:, -1] < 0

        kwargs["stopping_criteria"].insert(0, CancelAtThird())  # type: ignore[attr-defined]
        return original(**kwargs, min_new_tokens=0)

    runner.model.generate = generate
    out = list(runner(["paris is the capital"], max_new_tokens=40, cancel=cancel))
    assert out == [] and len(steps) == 3
    assert list(runner(["paris is the capital"], max_new_tokens=5))  # without a cancel: a result


def test_a_hosted_stop_mid_batch_keeps_the_rest_of_the_batch(
    generative_task_models: dict[str, Path],
) -> None:
    """In a host, a cancel after the first summary of a padded batch still brings the
    second (made by the same generate): the proxy dropped every event after the cancel."""
    folder = generative_task_models["t5"]
    values = ["paris is the capital", "the company lives in london", "a", "b c d", "e f"]
    engine = create_task_engine("transformers_tasks")
    engine.load(task_spec(folder), TaskLoadOptions("summarization", **CPU))
    try:
        cancel = threading.Event()
        stopped = []
        options = TaskOptions(max_new_tokens=8, batch_size=2)
        for event in engine.run([text(v) for v in values], options, cancel):
            stopped.append(event)
            if isinstance(event, ItemDone):
                cancel.set()
    finally:
        engine.unload()
    done = [e.index for e in stopped if isinstance(e, ItemDone)]
    assert done[:2] == [0, 1] and done == list(range(len(done)))  # in order, none lost
    finished = stopped[-1]
    assert isinstance(finished, BatchFinished) and finished.done == len(done)
