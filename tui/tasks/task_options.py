"""The Tasks screen's top row: the task list and the options of the task picked in it.

Only the options that apply to the picked task show (top k for classifiers, aggregation
for NER, a threshold for detection, labels for zero-shot, the question for QA, the target
language where a translation model offers several);
`options()` reads them as the engine's `TaskOptions`.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Checkbox, Input, Label, Select

from backends.tasks.model_tasks import target_title
from backends.tasks.protocol import LABELLED_TASKS, TASK_INPUTS, TaskOptions
from backends.tasks.task_inputs import parse_labels

# A batch's texts go through one padded `generate` this many at a time (the engine still
# reports each item; a cancel stops the batch under way): bench/model_task_throughput.py.
GENERATE_BATCH = 8
BATCHED_TASKS = ("summarization", "translation")
AGGREGATIONS = ("simple", "first", "average", "max", "none")
TOP_K_TASKS = ("text-classification", "fill-mask", "image-classification",
               "audio-classification", "zero-shot-image-classification")  # fmt: skip


class TaskOptionsRow(Horizontal):
    """The task Select (#tasks-task) and the options beside it."""

    DEFAULT_CSS = """
    TaskOptionsRow #tasks-question { width: 1fr; }
    TaskOptionsRow #tasks-target { width: 16; }
    """

    _targets: tuple[str, ...] = ()  # set_targets: the loaded model's translations

    def compose(self) -> ComposeResult:
        yield Label("Task")
        options = [(t, t) for t in TASK_INPUTS]  # the Hub's names for them
        yield Select(options, prompt="pick the task", id="tasks-task", compact=True)
        yield Label("Top k", classes="opt-top-k")
        yield Input("5", id="tasks-top-k", classes="opt-top-k", compact=True, type="integer")
        yield Label("Aggregation", classes="opt-aggregation")
        yield Select(
            [(a, a) for a in AGGREGATIONS], value="simple", allow_blank=False,
            id="tasks-aggregation", classes="opt-aggregation", compact=True,
        )  # fmt: skip
        yield Label("Threshold", classes="opt-threshold")
        yield Input("0.5", id="tasks-threshold", classes="opt-threshold", compact=True,
                    type="number")  # fmt: skip
        yield Checkbox("Multi-label", id="tasks-multi", classes="opt-labels", compact=True)
        yield Label("Labels", classes="opt-labels")
        yield Input(placeholder="comma-separated, e.g. sports, politics, music",
                    id="tasks-labels", classes="opt-labels", compact=True)  # fmt: skip
        yield Label("Target", classes="opt-target")
        yield Select[str]([], prompt="the model's first", id="tasks-target",
                          classes="opt-target", compact=True)  # fmt: skip
        yield Label("Question", classes="opt-question")
        yield Input(placeholder="asked of the text below, e.g. Where does John live?",
                    id="tasks-question", classes="opt-question", compact=True)  # fmt: skip

    @property
    def task(self) -> str | None:
        value = self.query_one("#tasks-task", Select).value
        return value if isinstance(value, str) else None

    def set_targets(self, targets: tuple[str, ...]) -> None:
        """The translations the loaded model offers (TaskModelInfo.targets), its first chosen."""
        self._targets = targets
        choice = self.query_one("#tasks-target", Select)
        choice.set_options([(target_title(t), t) for t in targets])
        if targets:
            choice.value = targets[0]
        self.show_for(self.task or "")

    def show_for(self, task: str) -> None:
        """Show the options that apply to `task`, hide the rest."""
        shown = {
            "opt-target": task == "translation" and len(self._targets) > 1,
            "opt-top-k": task in TOP_K_TASKS,
            "opt-aggregation": task == "token-classification",
            "opt-threshold": task == "object-detection",
            "opt-labels": task in LABELLED_TASKS,
            "opt-question": task in ("question-answering", "document-question-answering"),
        }
        for name, visible in shown.items():
            for widget in self.query(f".{name}"):
                widget.set_class(not visible, "-hidden")
        if task == "zero-shot-image-classification":
            self.query_one("#tasks-multi").add_class("-hidden")

    def options(self, items: int = 1) -> TaskOptions:
        """The options of a run of `items` inputs; a WrongInput when a labelled task has no
        labels."""

        def number(selector: str, default: float) -> float:
            try:
                return float(self.query_one(selector, Input).value)
            except ValueError:
                return default

        task = self.task or ""
        labels: tuple[str, ...] = ()
        if task in LABELLED_TASKS:
            labels = parse_labels(self.query_one("#tasks-labels", Input).value)
        aggregation = self.query_one("#tasks-aggregation", Select).value
        target = self.query_one("#tasks-target", Select).value
        return TaskOptions(
            batch_size=GENERATE_BATCH if items > 1 and task in BATCHED_TASKS else 1,
            target=target if task == "translation" and isinstance(target, str) else "",
            top_k=max(1, int(number("#tasks-top-k", 5))),
            aggregation_strategy=aggregation if isinstance(aggregation, str) else "simple",  # type: ignore[arg-type]
            candidate_labels=labels,
            multi_label=self.query_one("#tasks-multi", Checkbox).value,
            threshold=number("#tasks-threshold", 0.5),
            question=self.query_one("#tasks-question", Input).value.strip(),
        )

    @property
    def threshold_text(self) -> str:
        return self.query_one("#tasks-threshold", Input).value


def loaded_hint(label: str, task: str, kind: str) -> str:
    """What to do once a model is loaded, by what its task takes."""
    if task == "document-question-answering":
        return (f"Loaded {label}. Type the question above, name the page's picture below and "
                "press Enter.")  # fmt: skip
    if task == "question-answering":
        return (f"Loaded {label}. Type the question above and the text to answer from below, "
                "then press ctrl+r.")  # fmt: skip
    if kind == "text":
        return (f"Loaded {label}. Type text and press ctrl+r, or name a file below and press "
                "Enter.")  # fmt: skip
    return (f"Loaded {label}. Name an {kind} file below and press Enter (or a batch file, one "
            "path per line).")  # fmt: skip
