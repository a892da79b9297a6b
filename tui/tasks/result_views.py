"""One item's result as Rich renderables, one view per task family.

Scores show with four decimals (`score_text`, the same the export writes), beside a bar
as long as the score is high. Entities are coloured by group in the text itself, each span
followed by its label, with a table of them below.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from backends.tasks.export import score_text
from backends.tasks.pipeline_outputs import cosine_matrix
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
    TaskModelInfo,
    Transcript,
)
from tui.speech.segment_list import timestamp

BAR_WIDTH = 30
LINE_WORDS = 12  # word-timed transcripts (CTC models) are gathered into lines of this many
LINE_GAP_S = 0.5  # or broken where the speaker pauses this long
GROUP_STYLES = ("bold magenta", "bold cyan", "bold green", "bold yellow", "bold blue", "bold red")


def bar(score: float, width: int = BAR_WIDTH) -> Text:
    filled = max(0, min(width, round(score * width)))
    return Text("█" * filled, style="green") + Text("░" * (width - filled), style="dim")


def label_bars(rows: Sequence[LabelScore]) -> Table:
    table = Table.grid(padding=(0, 2))
    for row in rows:
        table.add_row(Text(row.label, style="bold"), bar(row.score), score_text(row.score))
    return table


def group_style(group: str, groups: Sequence[str]) -> str:
    ordered = sorted(set(groups))
    return GROUP_STYLES[ordered.index(group) % len(GROUP_STYLES)] if group in ordered else "bold"


def entity_text(text: str, entities: Sequence[Entity]) -> Text:
    """The text with each entity span coloured and followed by its group: `Paris[LOC]`."""
    groups = [e.group for e in entities]
    out = Text()
    at = 0
    for entity in sorted((e for e in entities if e.start >= 0), key=lambda e: e.start):
        if entity.start < at:
            continue  # overlapping spans (aggregation "none" on sub-words): first wins
        out.append(text[at : entity.start])
        style = group_style(entity.group, groups)
        out.append(text[entity.start : entity.end], style=f"{style} underline")
        out.append(f"[{entity.group}]", style=style)
        at = entity.end
    out.append(text[at:])
    return out


def entity_table(entities: Sequence[Entity]) -> Table:
    table = Table("Entity", "Group", "Score", "Chars", box=None, padding=(0, 2))
    groups = [e.group for e in entities]
    for e in entities:
        style = group_style(e.group, groups)
        table.add_row(e.word, Text(e.group, style=style), score_text(e.score), f"{e.start}–{e.end}")
    return table


def mask_view(fills: Sequence[MaskFill], mask_token: str | None) -> Group:
    table = Table.grid(padding=(0, 2))
    for fill in fills:
        table.add_row(Text(fill.token, style="bold"), bar(fill.score), score_text(fill.score))
    sentences = Text("\n").join(Text(f"· {fill.sequence}") for fill in fills)
    head = Text(f"Mask token: {mask_token}", style="dim") if mask_token else Text()
    return Group(head, table, Text(""), sentences)


def detection_table(detections: Sequence[Detection]) -> Table:
    table = Table("Label", "Score", "Box (x0, y0, x1, y1)", box=None, padding=(0, 2))
    for d in detections:
        b = d.box
        table.add_row(d.label, score_text(d.score), f"{b.xmin}, {b.ymin}, {b.xmax}, {b.ymax}")
    return table


def similarity_matrix(items: Sequence[ItemDone]) -> Table:
    """Cosine similarity of every pair of embedded lines, numbered as the rows are."""
    vectors = [i.result.vector for i in items if isinstance(i.result, Embedding)]
    table = Table("", *(str(n + 1) for n in range(len(vectors))), box=None, padding=(0, 1))
    for n, (item, row) in enumerate(zip(items, cosine_matrix(vectors), strict=True)):
        cells = [Text(f"{v:.3f}", style="green" if v > 0.8 else "") for v in row]
        table.add_row(f"{n + 1} {item.item.label[:24]}", *cells)
    return table


def timed_lines(
    chunks: Sequence[tuple[float | None, float | None, str]],
) -> list[tuple[float, float, str]]:
    """Transcript chunks as lines: Whisper's segments one a line; a CTC model's words
    gathered LINE_WORDS to a line, or up to a pause of LINE_GAP_S."""
    lines: list[tuple[float, float, str]] = []
    words: list[str] = []
    start = end = 0.0
    for chunk_start, chunk_end, text in chunks:
        begin = chunk_start if chunk_start is not None else end
        finish = chunk_end if chunk_end is not None else begin
        is_word = len(text.split()) <= 1
        if words and (not is_word or len(words) >= LINE_WORDS or begin - end >= LINE_GAP_S):
            lines.append((start, end, " ".join(words)))
            words = []
        if not is_word:
            lines.append((begin, finish, text.strip()))
            end = finish
            continue
        if not words:
            start = begin
        words.append(text.strip())
        end = finish
    if words:
        lines.append((start, end, " ".join(words)))
    return lines


def transcript_view(result: Transcript) -> RenderableType:
    """Timed lines like the Speech screen's (start → end, the words), or the bare text."""
    lines = timed_lines(result.chunks)
    if not lines:
        return Text(result.text or "(no speech recognised)")
    out = Text()
    for n, (start, end, text) in enumerate(lines):
        if n:
            out.append("\n")
        out.append(f"{timestamp(start)} → {timestamp(end)}  ", style="dim")
        out.append(text)
    return out


def answer_view(answer: Answer, context: str) -> Group:
    """The answer with its score, then the context with the answer's span highlighted (a
    document's answer has no span in a text, and Donut's no score)."""
    head = Text.assemble(("Answer: ", "dim"), (answer.answer or "(no answer)", "bold"))
    score = Table.grid(padding=(0, 2))
    if answer.score is not None:
        score.add_row(Text("score", style="dim"), bar(answer.score), score_text(answer.score))
    shown = Text()
    if answer.start >= 0:
        shown.append(context[: answer.start])
        shown.append(context[answer.start : answer.end], style="bold reverse")
        shown.append(context[answer.end :])
    question = Text.assemble(("Question: ", "dim"), answer.question) if answer.question else Text()
    return Group(question, head, score, Text(""), shown)


def item_view(item: ItemDone | ItemFailed, mask_token: str | None = None) -> RenderableType:
    """The full view of one item (the only item, or the one picked in a batch)."""
    if isinstance(item, ItemFailed):
        return Text(f"{item.title}: {item.message}", style="red")
    parts: list[RenderableType] = []
    if item.truncated_to is not None:
        parts.append(
            Text(
                f"The text was cut to its first {item.truncated_to} tokens, all this model reads.",
                style="yellow",
            )
        )
    result = item.result
    if isinstance(result, Embedding):
        parts.append(Text(f"Vector of {len(result.vector)} numbers from {result.tokens} tokens."))
    elif isinstance(result, Transcript):
        parts.append(transcript_view(result))
    elif isinstance(result, GeneratedText):
        parts.append(Text(result.text or "(the model wrote nothing)"))
    elif isinstance(result, Answer):
        parts.append(answer_view(result, item.text if item.text is not None else item.item.value))
    elif result and isinstance(result[0], Entity):
        text = item.text if item.text is not None else item.item.value
        entities = [e for e in result if isinstance(e, Entity)]
        parts += [entity_text(text, entities), Text(""), entity_table(entities)]
    elif not result:
        parts.append(Text("Nothing found.", style="dim"))
    elif isinstance(result[0], MaskFill):
        parts.append(mask_view([r for r in result if isinstance(r, MaskFill)], mask_token))
    elif isinstance(result[0], Detection):
        parts.append(detection_table([r for r in result if isinstance(r, Detection)]))
    else:
        parts.append(label_bars([r for r in result if isinstance(r, LabelScore)]))
    return Group(*parts)


def shown_view(
    item: ItemDone | ItemFailed,
    items: Sequence[ItemDone | ItemFailed],
    info: TaskModelInfo | None,
    threshold: str,
) -> RenderableType:
    """What the result pane shows for `item` among the run's `items`: its full view, under
    a heading in a batch; for embeddings of several lines, their similarity matrix."""
    view: RenderableType = item_view(item, info.mask_token if info else None)
    if isinstance(item, ItemDone) and not item.result and info is not None:
        if info.task == "object-detection":
            view = (f"No detection scored above the threshold ({threshold}). Lower it to "
                    "see weaker ones.")  # fmt: skip
    if len(items) > 1:
        heading = Text(f"Item {item.index + 1}: {item.item.label}", style="bold")
        view = Group(heading, view)
    done = [i for i in items if isinstance(i, ItemDone)]
    if info is not None and info.task == "feature-extraction" and len(done) > 1:
        view = Group(Text("Cosine similarity", style="bold"), similarity_matrix(done))
    return view
