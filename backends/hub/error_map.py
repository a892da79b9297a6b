"""huggingface_hub's and httpx's failures, as the BackendErrors the user sees.

One mapping for every Hub call: the status and the Hub's X-Error-Code / X-Error-Message headers
decide (GatedRepo, RepoNotFound, RevisionNotFound, EntryNotFound, rejected token, 403, 429);
an unreachable Hub is OfflineError at once. Errors are raised `from None`: huggingface_hub's and
httpx's exceptions carry the request, Authorization header included, and the token must never
reach a message, a repr or a log line.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from backends.errors import AuthRequired, BackendError, HubError, ModelNotFound, OfflineError
from backends.hub.token import HubToken, redact
from backends.hub.transport import HubUnreachable, fail_fast
from backends.paths import config_file


def offline_mode_error() -> OfflineError:
    return OfflineError(
        "Offline mode is on, so the Hub is not contacted. Models already downloaded are "
        "listed by F4 and the model picker (ctrl+o). To browse, set offline = false in "
        f"{config_file()}, unset HF_HUB_OFFLINE and LOCALAI_TUI_OFFLINE, and start the app "
        "without --offline."
    )


def error_for_status(
    status: int, headers: Any, repo_id: str | None, what: str, token: HubToken | None
) -> BackendError:
    """Our error for a failed Hub answer: gated, private, bad token, missing repo/file, 429."""
    code = headers.get("x-error-code", "")
    server_msg = redact(headers.get("x-error-message", ""), token)
    page = f"https://huggingface.co/{repo_id}" if repo_id else "https://huggingface.co"
    if code == "GatedRepo":
        if token is None:
            return AuthRequired(
                f"{repo_id} is gated. Request access at {page}, then add a Hugging Face "
                "token (HF_TOKEN, `hf auth login`, or paste one when the app asks for it)."
            )
        return AuthRequired(
            f"Your token has no access to {repo_id} yet. Request access at {page} "
            "(approval can take a while), then try again."
        )
    if status == 401 and "credentials" in server_msg.lower():
        return AuthRequired(
            f"The Hugging Face token was rejected while {what} ({repo_id or 'the Hub'}). "
            "Create a new read token at https://huggingface.co/settings/tokens and enter it."
        )
    if code == "RepoNotFound" or (status in (401, 404) and not code and repo_id):
        hint = "" if token else " If it is private, add a token that can read it."
        if status == 401 and token is None:
            return AuthRequired(f"{repo_id} was not found or is private ({page}).{hint}")
        return ModelNotFound(f"{repo_id} was not found on the Hub ({page}).{hint}")
    if code == "RevisionNotFound":
        return ModelNotFound(f"{repo_id} has no such revision. Pick another branch or commit.")
    if code == "EntryNotFound":
        return ModelNotFound(f"That file is not in {repo_id}. Refresh the file list.")
    if status == 403:
        return AuthRequired(f"Access to {repo_id} was refused. Check your access at {page}.")
    if status == 429:
        return HubError("The Hub is rate-limiting requests. Wait a minute and try again.")
    return HubError(
        f"The Hub answered {status} while {what}"
        + (f": {server_msg}" if server_msg else "")
        + ". Try again later."
    )


@contextmanager
def mapped_hub_errors(
    endpoint: str, token: HubToken | None, timeout: float, what: str, repo_id: str | None
) -> Iterator[None]:
    """Run huggingface_hub calls fail-fast (hub_transport) and map what they raise."""
    import httpx2
    from huggingface_hub.errors import (
        HfHubHTTPError,
        HFValidationError,
        LocalEntryNotFoundError,
        OfflineModeIsEnabled,
    )

    unreachable = OfflineError(
        f"Can't reach the Hub at {endpoint} while {what}. Check your connection; "
        "models already downloaded still work offline."
    )
    slow = HubError(f"The Hub at {endpoint} did not answer in time while {what}. Try again.")
    try:
        with fail_fast(timeout, endpoint):
            yield
    except BackendError:
        raise
    except HubUnreachable as exc:
        raise (slow if exc.timed_out else unreachable) from None
    except OfflineModeIsEnabled:  # HF_HUB_OFFLINE was set when huggingface_hub was imported
        raise offline_mode_error() from None
    except HfHubHTTPError as exc:
        response = exc.response
        if response is None:
            raise HubError(f"The Hub failed while {what}. Try again later.") from None
        status, headers = response.status_code, response.headers
        raise error_for_status(status, headers, repo_id, what, token) from None
    except LocalEntryNotFoundError:  # hf_hub_download: no answer and nothing cached
        raise unreachable from None
    except HFValidationError:
        page = f"https://huggingface.co/{repo_id}"
        raise ModelNotFound(f"{repo_id} was not found on the Hub ({page}).") from None
    except (httpx2.ConnectError, httpx2.ConnectTimeout):
        raise unreachable from None
    except httpx2.TimeoutException:
        raise slow from None
    except httpx2.HTTPError as exc:
        message = f"Network error while {what}: {redact(str(exc), token)}. Try again."
        raise HubError(message) from None
