"""The tasks a chat model can do when no model of their own is loaded, as prompts.

Summarisation, translation, question answering and captioning run on a seq2seq, QA or
captioning model when one is loaded (`model_tasks.py`); for any other model the Tasks
screen puts one of these prompts in the chat's prompt box (with the picture attached for
captioning), for the user to read, edit and send to the loaded chat model.
"""

from __future__ import annotations

from backends.tasks.task_inputs import WrongInput

CHAT_TASKS = (
    "summarization", "translation", "question-answering", "image-to-text",
    "document-question-answering",
)  # fmt: skip
PICTURE_TASKS = ("image-to-text", "document-question-answering")


def chat_prompt(task: str, text: str, question: str = "") -> str:
    """The prompt for `task` on `text` (the context for QA; unused for the picture tasks,
    whose picture is attached beside the prompt)."""
    text = text.strip()
    if task == "image-to-text":
        return "Describe this picture in one sentence."
    if task == "document-question-answering":
        if not question.strip():
            raise WrongInput("Type the question about the page first.", title="No question")
        return f"Answer this question from the page in the picture: {question.strip()}"
    if not text:
        raise WrongInput("Type the text first, then send it to the chat.", title="No text")
    if task == "summarization":
        return f"Summarise the following text in a few sentences.\n\n{text}"
    if task == "translation":
        return f"Translate the following text into English (or say which language).\n\n{text}"
    if task == "question-answering":
        if not question.strip():
            raise WrongInput("Type the question to answer from the text first.",
                             title="No question")  # fmt: skip
        return (
            "Answer the question from the text below only, quoting the words of the text "
            f"that answer it.\n\nQuestion: {question.strip()}\n\nText:\n{text}"
        )
    raise WrongInput(
        f"The chat model is not asked to do {task}; it takes summarisation, translation, "
        "question answering and captioning.",
        title="Not a chat task",
    )
