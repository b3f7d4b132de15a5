"""LocalTogether's ``POST /v1/chat/completions`` for simulated serverless models.

Every model of :data:`~prefnb.testing.serverless_models.SERVERLESS_MODELS` is served under its
real name. A request whose last user message is a judge input (see
:func:`~prefnb.testing.sim_judge.read_judge_input`) is answered by the server's simulated
judge; any other request gets a short simulated reply. ``usage`` counts tokens as characters
÷ 4 (rounded up), and each answered request is billed at the model's price in
``state.charges`` — a refused request (4xx, or a fault injected before the route) is not.

Example:
    >>> from prefnb.testing import LocalTogether
    >>> with LocalTogether() as api:  # doctest: +SKIP
    ...     r = api.client().chat.completions.create(
    ...         model="meta-llama/Llama-3.3-70B-Instruct-Turbo",
    ...         messages=[{"role": "user", "content": "hi"}])
    ...     r.usage.prompt_tokens
    1
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from prefnb.testing.serverless_models import SERVERLESS_MODELS
from prefnb.testing.sim_judge import read_judge_input
from prefnb.testing.wire import ApiError, Request, Response

if TYPE_CHECKING:
    from prefnb.testing.state import State

__all__ = ["Charge", "post_chat_completions", "tokens"]

_ROLES = ("system", "user", "assistant", "tool")


@dataclass(frozen=True)
class Charge:
    """One billed inference: who asked for what, and what it cost (simulated)."""

    model: str
    input_tokens: int
    output_tokens: int
    cost_usd: float
    source: str  # "chat" or an evaluation id


def tokens(text: str) -> int:
    """Simulated token count: characters ÷ 4, rounded up (what prefnb's estimate assumes)."""
    return math.ceil(len(text) / 4)


def _check(body: Any) -> tuple[str, list[dict[str, Any]], int | None]:
    if not isinstance(body, dict):
        raise ApiError(400, "request body must be a JSON object")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise ApiError(400, "model is required", param="model")
    if model not in SERVERLESS_MODELS:
        raise ApiError(
            404,
            f"Unable to access model {model}. Please visit https://api.together.ai/models to "
            "view the list of supported models (simulated).",
            param="model",
        )
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ApiError(400, "messages must be a non-empty list", param="messages")
    for i, msg in enumerate(messages):
        if not isinstance(msg, dict) or msg.get("role") not in _ROLES:
            raise ApiError(
                400, f"messages[{i}].role must be one of {', '.join(_ROLES)}", param="messages"
            )
        if not isinstance(msg.get("content"), str):
            raise ApiError(400, f"messages[{i}].content must be a string", param="messages")
    max_tokens = body.get("max_tokens")
    if max_tokens is not None and (
        isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1
    ):
        raise ApiError(400, "max_tokens must be a positive integer", param="max_tokens")
    temperature = body.get("temperature")
    if temperature is not None and (
        isinstance(temperature, bool)
        or not isinstance(temperature, (int, float))
        or not 0 <= temperature <= 2
    ):
        raise ApiError(400, "temperature must be a number in [0, 2]", param="temperature")
    if body.get("stream"):
        raise ApiError(400, "stream=true is not simulated by LocalTogether", param="stream")
    return model, messages, max_tokens


def post_chat_completions(state: State, req: Request) -> Response:
    try:
        body = req.json()
    except ValueError:
        raise ApiError(400, "request body is not valid JSON") from None
    if not isinstance(body, dict) or read_judge_input(body.get("messages")) is None:
        from prefnb.testing.sim_models import post_model_chat  # generation, fine-tunes, streams

        return post_model_chat(state, body)
    model, messages, max_tokens = _check(body)
    judged = read_judge_input(messages)
    if judged is not None:
        content = state.judge.answer(*judged)
    else:
        content = "This is a simulated reply from LocalTogether."
    finish = "stop"
    if max_tokens is not None and tokens(content) > max_tokens:
        content, finish = content[: max_tokens * 4], "length"
    n_in = sum(tokens(m["content"]) for m in messages)
    n_out = tokens(content)
    price = SERVERLESS_MODELS[model]
    state.charges.append(Charge(model, n_in, n_out, price.cost_usd(n_in, n_out), "chat"))
    created = int(state.clock.wall(state.clock.now()))
    return Response(
        200,
        {
            "id": f"chatcmpl-sim-{secrets.token_hex(8)}",
            "object": "chat.completion",
            "created": created,
            "model": model,
            "prompt": [],
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content, "tool_calls": []},
                    "finish_reason": finish,
                    "seed": None,
                    "logprobs": None,
                }
            ],
            "usage": {
                "prompt_tokens": n_in,
                "completion_tokens": n_out,
                "total_tokens": n_in + n_out,
            },
        },
    )
