"""Plain-language errors for everything that can go wrong while launching a job.

Each error says what happened and what to do, in one or two sentences, and never contains
the API key. :func:`api_errors` turns the ``together`` SDK's HTTP exceptions into these.

Example:
    >>> err = UnknownModel("meta-llama/Nope", detail="model not found")
    >>> print(err)
    Together does not fine-tune a model called 'meta-llama/Nope' (model not found). Check the \
name against https://docs.together.ai/docs/fine-tuning-models.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import httpx
import together

from prefnb.launch.credentials import redact

__all__ = [
    "AuthenticationFailed",
    "DataRejected",
    "FileValidationFailed",
    "InsufficientFunds",
    "JobFailed",
    "LaunchError",
    "ParameterError",
    "TogetherUnavailable",
    "UnknownModel",
    "api_errors",
]


class LaunchError(Exception):
    """Base of every launcher error; ``str(err)`` is a complete, key-free explanation."""


class ParameterError(LaunchError, ValueError):
    """A hyperparameter is out of range or not allowed; nothing was sent."""


class DataRejected(LaunchError, ValueError):
    """prefnb's own validator rejected the training data; the file was never uploaded."""


class AuthenticationFailed(LaunchError):
    """No API key, or Together rejected it (HTTP 401)."""


class UnknownModel(LaunchError):
    """Together does not know the model (HTTP 404 from the model-limits endpoint)."""

    def __init__(self, model: str, *, detail: str = "") -> None:
        self.model = model
        extra = f" ({detail})" if detail else ""
        super().__init__(
            f"Together does not fine-tune a model called {model!r}{extra}. Check the name "
            "against https://docs.together.ai/docs/fine-tuning-models."
        )


class InsufficientFunds(LaunchError):
    """Together's price estimate says the account cannot pay for the job."""

    def __init__(self, price: float | None, limit: float | None) -> None:
        self.price = price
        self.limit = limit
        cost = f"${price:,.2f}" if price is not None else "an unknown amount"
        have = f" and your account allows ${limit:,.2f}" if limit is not None else ""
        super().__init__(
            f"Not enough credit for this job: Together estimates it costs {cost}{have}. "
            "Add credit at https://api.together.ai/settings/billing, or train on less data "
            "or fewer epochs. Nothing was started."
        )


class FileValidationFailed(LaunchError):
    """Together's own processing rejected an uploaded file; ``server_error`` is verbatim."""

    def __init__(self, file_id: str, path: str, server_error: str) -> None:
        self.file_id = file_id
        self.path = path
        self.server_error = server_error
        super().__init__(
            f"Together rejected {path} (uploaded as {file_id}) while processing it:\n{server_error}"
        )


class JobFailed(LaunchError):
    """A job ended in ``error``, ``user_error`` or ``cancelled`` when it had to complete."""


class TogetherUnavailable(LaunchError):
    """Together kept failing (rate limits, server errors, dropped connections) after retries."""


def _detail(exc: together.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        for key in ("message", "error", "detail"):
            value = body.get(key)
            if isinstance(value, dict):
                value = value.get("message")
            if isinstance(value, str) and value:
                return value
    return ""


def _auth_message(exc: together.AuthenticationError, what: str, service: str) -> str:
    """The SDK's own 401 message when it wrote a specific one (its upload says the job would
    exceed the free-trial credits), else a plain one. The server's detail is added."""
    detail = redact(_detail(exc))
    said = redact(str(exc.message or ""))
    generic = not said or said.startswith("Error code:")
    if generic:
        return (
            f"{service} rejected the API key (HTTP 401) while {what}"
            + (f": {detail}" if detail else "")
            + ". Check TOGETHER_API_KEY, or pass client=together.Together(api_key=...) with a "
            "valid key."
        )
    return f"{said} (HTTP 401 while {what}" + (f"; {service} said: {detail})" if detail else ")")


@contextlib.contextmanager
def api_errors(
    *, model: str | None = None, what: str = "talking to Together", service: str = "Together"
) -> Iterator[None]:
    """Turn SDK exceptions raised inside the block into plain :class:`LaunchError` s.

    A 404 becomes :class:`UnknownModel` only when ``model`` is given (the block asks about
    a model); every message passes through :func:`~prefnb.launch.credentials.redact`.
    ``service`` names the server (``"LocalTogether (simulated)"`` offline).
    """
    try:
        yield
    except together.AuthenticationError as exc:
        raise AuthenticationFailed(_auth_message(exc, what, service)) from None
    except together.NotFoundError as exc:
        if model is not None:
            raise UnknownModel(model, detail=redact(_detail(exc))) from None
        raise LaunchError(redact(f"Not found while {what}: {_detail(exc) or exc}")) from None
    except (together.RateLimitError, together.InternalServerError) as exc:
        raise TogetherUnavailable(
            f"{service} kept answering HTTP {exc.status_code} while {what}, even after "
            "retrying with backoff. Try again in a few minutes."
        ) from None
    except (together.APIConnectionError, httpx.TransportError):
        raise TogetherUnavailable(
            f"Could not reach {service} while {what} (connection failed or was reset, even "
            "after retrying with backoff). Check your network and try again."
        ) from None
    except together.APIStatusError as exc:
        raise LaunchError(
            redact(f"{service} answered HTTP {exc.status_code} while {what}: {_detail(exc) or exc}")
        ) from None
