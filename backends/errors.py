"""One error family for every backend, each with a title and a sentence a user can act on.

Backends raise these; only the TUI decides how to show them.
"""

from __future__ import annotations


class BackendError(Exception):
    """A failure the user can understand and act on."""

    title: str = "Something went wrong"

    def __init__(self, message: str, *, title: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if title is not None:
            self.title = title

    def __str__(self) -> str:
        return self.message


class MissingDependency(BackendError):
    """An optional runtime (an extra) is not installed."""

    title = "Runtime not installed"


class ModelNotFound(BackendError):
    title = "Model not found"


class CorruptModel(BackendError):
    title = "Model file is damaged"


class UnsupportedModel(BackendError):
    """Unknown architecture, or a format no engine here loads."""

    title = "Unsupported model"


class UnsupportedOption(BackendError):
    """A load option that cannot work here (int4 without CUDA, say)."""

    title = "Option not available"


class OutOfMemory(BackendError):
    title = "Out of memory"


class LoadCancelled(BackendError):
    title = "Load cancelled"


class ServerUnreachable(BackendError):
    title = "Server unreachable"


class ServerError(BackendError):
    """The server answered, but with an error."""

    title = "Server error"


class GenerationError(BackendError):
    title = "Generation failed"


class AudioError(BackendError):
    """An audio file that is missing or that the decoder cannot read."""

    title = "Cannot read the audio"


class MicrophoneUnavailable(BackendError):
    """No PortAudio library, no input device, a busy device, or a remote (SSH) session."""

    title = "No microphone"


class HubError(BackendError):
    title = "Hugging Face Hub error"


class AuthRequired(HubError):
    """A gated or private repo and no (or an insufficient) token."""

    title = "Access token needed"


class OfflineError(HubError):
    title = "Offline"


class DownloadError(BackendError):
    title = "Download failed"


class StorageError(BackendError):
    """The conversation database could not be opened, read or written."""

    title = "Conversation history error"
