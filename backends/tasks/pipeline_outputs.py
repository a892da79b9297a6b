"""A pipeline's raw output (dicts, lists, numpy floats) as the task's frozen results.

Plain conversion, no torch: numpy scalars become floats so results pickle small and
compare equal to the pipeline's numbers.
"""

from __future__ import annotations

from typing import Any

from backends.errors import GenerationError
from backends.tasks.protocol import (
    Answer,
    Box,
    Detection,
    Embedding,
    Entity,
    GeneratedText,
    LabelScore,
    MaskFill,
    TaskResult,
    Transcript,
)


def _labels(raw: Any) -> tuple[LabelScore, ...]:
    rows = raw if isinstance(raw, list) else [raw]
    if rows and isinstance(rows[0], list):  # one input's list inside a batch's list
        rows = rows[0]
    return tuple(LabelScore(str(r["label"]), float(r["score"])) for r in rows)


def _entities(raw: Any) -> tuple[Entity, ...]:
    return tuple(
        Entity(
            group=str(r.get("entity_group") or r.get("entity") or ""),
            word=str(r.get("word", "")),
            start=int(r["start"]) if r.get("start") is not None else -1,
            end=int(r["end"]) if r.get("end") is not None else -1,
            score=float(r["score"]),
        )
        for r in raw
    )


def _fills(raw: Any) -> tuple[MaskFill, ...]:
    rows = raw[0] if raw and isinstance(raw[0], list) else raw
    return tuple(
        MaskFill(str(r["token_str"]).strip(), float(r["score"]), str(r["sequence"])) for r in rows
    )


def _zero_shot(raw: Any) -> tuple[LabelScore, ...]:
    return tuple(
        LabelScore(str(label), float(score))
        for label, score in zip(raw["labels"], raw["scores"], strict=True)
    )


def _detections(raw: Any) -> tuple[Detection, ...]:
    return tuple(
        Detection(
            str(r["label"]),
            float(r["score"]),
            Box(*(int(round(float(r["box"][k]))) for k in ("xmin", "ymin", "xmax", "ymax"))),
        )
        for r in raw
    )


def _transcript(raw: Any) -> Transcript:
    chunks = tuple(
        (
            _float_or_none(c.get("timestamp", (None, None))[0]),
            _float_or_none(c.get("timestamp", (None, None))[1]),
            str(c.get("text", "")),
        )
        for c in raw.get("chunks") or ()
    )
    return Transcript(str(raw.get("text", "")).strip(), chunks)


def _float_or_none(value: Any) -> float | None:
    return None if value is None else float(value)


def pool(raw: Any, mode: str = "mean", normalize: bool = False) -> Embedding:
    """feature-extraction's token vectors ([1][tokens][hidden]) as one vector."""
    tokens = raw[0] if raw and isinstance(raw[0][0], list) else raw
    if not tokens:
        raise GenerationError("The model returned no vectors for this text.")
    if mode == "cls":
        vector = [float(v) for v in tokens[0]]
    else:
        size = len(tokens[0])
        sums = [0.0] * size
        for row in tokens:
            for i, value in enumerate(row):
                sums[i] += float(value)
        vector = [s / len(tokens) for s in sums]
    if normalize:
        norm = sum(v * v for v in vector) ** 0.5 or 1.0
        vector = [v / norm for v in vector]
    return Embedding(tuple(vector), len(tokens))


def cosine_matrix(vectors: list[tuple[float, ...]]) -> list[list[float]]:
    """Cosine similarity of every pair (rows and columns in input order)."""
    norms = [sum(v * v for v in vec) ** 0.5 or 1.0 for vec in vectors]
    pairs = list(zip(vectors, norms, strict=True))
    return [
        [sum(x * y for x, y in zip(a, b, strict=True)) / (na * nb) for b, nb in pairs]
        for a, na in pairs
    ]


def to_result(task: str, raw: Any, *, pooling: str = "mean", normalize: bool = False) -> TaskResult:
    """The pipeline output of one input for `task`."""
    if task in ("text-classification", "image-classification", "audio-classification"):
        return _labels(raw)
    if task == "zero-shot-image-classification":
        return _labels(raw)
    if task == "token-classification":
        return _entities(raw)
    if task == "fill-mask":
        return _fills(raw)
    if task == "zero-shot-classification":
        return _zero_shot(raw)
    if task in ("object-detection", "zero-shot-object-detection"):
        return _detections(raw)
    if task == "feature-extraction":
        return pool(raw, pooling, normalize)
    if task == "automatic-speech-recognition":
        return _transcript(raw)
    if task in ("summarization", "translation", "image-to-text"):
        return GeneratedText(str(raw["generated_text"]))
    if task == "document-question-answering":
        row = (raw[0] if raw else {}) if isinstance(raw, list) else raw
        score = row.get("score")
        return Answer(str(row.get("answer") or ""), None if score is None else float(score), -1, -1)
    if task == "question-answering":
        return Answer(str(raw["answer"]), float(raw["score"]), int(raw["start"]), int(raw["end"]),
                      str(raw.get("question", "")))  # fmt: skip
    raise GenerationError(f"The app cannot show results of the task {task!r}.")
