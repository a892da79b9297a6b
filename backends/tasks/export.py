"""A batch's results as rows (what the Tasks screen's table shows) and as JSONL / CSV.

The table and the CSV come from the same `summary_rows`, so the file holds what was
shown; JSONL adds each item's full result.
"""

from __future__ import annotations

import csv
import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path

from backends.errors import StorageError
from backends.tasks.protocol import (
    Answer,
    Detection,
    Embedding,
    Entity,
    GeneratedText,
    ItemDone,
    ItemFailed,
    LabelScore,
    MaskFill,
    Transcript,
)

EXPORT_SUFFIXES = (".jsonl", ".csv")
COLUMNS = ("item", "input", "result", "score")


def score_text(score: float) -> str:
    return f"{score:.4f}"


def summary(item: ItemDone | ItemFailed) -> tuple[str, str]:
    """(result, score) in words: the top label, the entities, the vector size..."""
    if isinstance(item, ItemFailed):
        return f"failed: {item.message}", ""
    result = item.result
    if isinstance(result, Embedding):
        return f"vector of {len(result.vector)} ({result.tokens} tokens)", ""
    if isinstance(result, (Transcript, GeneratedText)):
        return result.text, ""
    if isinstance(result, Answer):
        return result.answer, "" if result.score is None else score_text(result.score)
    if not result:
        return "(nothing)", ""
    first = result[0]
    if isinstance(first, Entity):
        return ", ".join(f"{e.word} ({e.group})" for e in result), ""  # type: ignore[union-attr]
    if isinstance(first, MaskFill):
        return first.token, score_text(first.score)
    if isinstance(first, (LabelScore, Detection)):
        extra = f" +{len(result) - 1}" if isinstance(first, Detection) and len(result) > 1 else ""
        return f"{first.label}{extra}", score_text(first.score)
    return str(first), ""


def summary_rows(items: Sequence[ItemDone | ItemFailed]) -> list[tuple[str, str, str, str]]:
    rows = []
    for item in items:
        result, score = summary(item)
        rows.append((str(item.index + 1), item.item.label or item.item.value, result, score))
    return rows


def write_results(items: Sequence[ItemDone | ItemFailed], path: Path) -> Path:
    """Write .jsonl (full results) or .csv (the shown rows); StorageError says why not."""
    path = path.expanduser()
    suffix = path.suffix.lower()
    if suffix not in EXPORT_SUFFIXES:
        raise StorageError(f"Save the results as .jsonl or .csv (not {suffix or 'no suffix'}).")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8", newline="") as out:
            if suffix == ".csv":
                writer = csv.writer(out)
                writer.writerow(COLUMNS)
                writer.writerows(summary_rows(items))
            else:
                for item in items:
                    out.write(json.dumps(_record(item), ensure_ascii=False) + "\n")
    except OSError as error:
        raise StorageError(
            f"Could not write {path}: {error.strerror}. Pick another place."
        ) from None
    return path


def _record(item: ItemDone | ItemFailed) -> dict[str, object]:
    base: dict[str, object] = {"item": item.index + 1, "input": item.item.value}
    if isinstance(item, ItemFailed):
        return {**base, "error": item.message}
    result = item.result
    if isinstance(result, tuple):
        payload: object = [dataclasses.asdict(r) for r in result]  # type: ignore[call-overload]
    else:
        payload = dataclasses.asdict(result)
    record = {**base, "result": payload}
    if item.truncated_to is not None:
        record["truncated_to_tokens"] = item.truncated_to
    return record
