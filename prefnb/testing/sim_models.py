"""Simulated answering models: serverless bases and the fine-tunes LocalTogether trained.

Any chat request that is not a judge request (see :mod:`prefnb.testing.sim_judge`) is
answered here, by ``POST /v1/chat/completions`` and by the Batch API alike. An answer is a
deterministic function of (model, messages, seed, temperature, max_tokens), so online and batch
generation give the same text for the same seed; without a seed (and temperature > 0) it is
a fresh draw, keyed by how many such draws the account has made: new per request, yet the
same from one run to the next, so a test of unseeded answers does not depend on luck.

Each answer has a hidden quality, ``z + skill`` with ``z ~ N(0, 1)`` drawn per answer, which
is told to the simulated judge (:meth:`SimJudge.know`) so the judge prefers better answers.
``skill`` is 0 for a base model, +0.4 for each SFT stage and, for DPO,
``0.9·exp(-ln(β/0.1)² / (2·0.8²))`` on top of the parent: β = 0.1 is best and the sweep chart
has a real shape. So the true probability that model A's answer beats B's is
``Φ((skill_A − skill_B) / √2)`` (:func:`true_win_rate`). DPO answers are also longer (by
``1 + 0.6·gain``), the length exploitation a length-controlled win rate has to see through.

A fine-tune answers serverless when its base offers serverless LoRA
(:data:`~prefnb.testing.hardware.LORA_SERVERLESS_BASES`) and it was a LoRA job; otherwise only
while a dedicated endpoint serving it is STARTED (called by the model or endpoint name).

Example:
    >>> round(true_win_rate(dpo_gain(0.1), 0.0), 3)
    0.738
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import secrets
from dataclasses import dataclass
from statistics import NormalDist
from typing import TYPE_CHECKING, Any

from prefnb.testing.hardware import lora_serverless_price
from prefnb.testing.serverless_models import SERVERLESS_MODELS, ServerlessModel
from prefnb.testing.wire import ApiError, Response

if TYPE_CHECKING:
    from prefnb.testing.state import JobRecord, State

__all__ = [
    "Served",
    "answer",
    "complete",
    "dpo_gain",
    "post_model_chat",
    "resolve",
    "true_win_rate",
]

SFT_GAIN = 0.4
_ROLES = ("system", "user", "assistant", "tool")
_NORMAL = NormalDist()

_WORDS = [
    "the key idea is to compare the two options carefully, and the evidence points one way",
    "a short example makes this concrete: start small, check each step, then generalise",
    "in practice the main risk is overfitting to noise, so a held-out check matters",
    "another way to see it is through the trade-off between bias and variance here",
    "to summarise, the answer depends on the assumptions, which are stated above",
    "note also that edge cases deserve a test of their own before trusting the result",
]


def dpo_gain(beta: float) -> float:
    """Skill a DPO stage adds at ``beta`` (peaks at β = 0.1)."""
    b = max(float(beta), 1e-6)
    return 0.9 * math.exp(-(math.log(b / 0.1) ** 2) / (2 * 0.8**2))


def true_win_rate(skill_a: float, skill_b: float) -> float:
    """P(an answer of a model with ``skill_a`` is truly better than one with ``skill_b``)."""
    return _NORMAL.cdf((skill_a - skill_b) / math.sqrt(2))


@dataclass(frozen=True)
class Served:
    """A model LocalTogether can answer as: its skill, verbosity, price and context."""

    name: str
    skill: float
    length_factor: float
    price: ServerlessModel | None  # None: a dedicated endpoint (billed by the hour)
    context_length: int
    via: str  # "serverless", "serverless-lora" or "endpoint <id>"
    #: What answers are drawn from: the training recipe, not the random job id, so the same
    #: recipe answers the same way in every run (tests do not depend on luck).
    identity: str = ""


def _uniform(*parts: object) -> float:
    h = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=8).digest()
    return (int.from_bytes(h, "big") + 0.5) / 2.0**64


def _job_skill(state: State, rec: JobRecord, depth: int = 0) -> tuple[float, float]:
    """(skill, length factor) of a fine-tune's output model."""
    request = rec.job.request
    parent_skill, parent_len = 0.0, 1.0
    ref = request.get("from_checkpoint")
    if ref and depth < 8:
        try:
            parent, _ = state.resolve_checkpoint(str(ref))
            parent_skill, parent_len = _job_skill(state, parent, depth + 1)
        except ApiError:
            pass
    method = request.get("training_method") or {"method": "sft"}
    if str(method.get("method", "sft")) == "dpo":
        gain = dpo_gain(float(method.get("dpo_beta") or 0.1))
        return parent_skill + gain, parent_len * (1 + 0.6 * gain)
    return parent_skill + SFT_GAIN, parent_len


def _job_identity(state: State, rec: JobRecord, depth: int = 0) -> str:
    request = rec.job.request
    method = request.get("training_method") or {"method": "sft"}
    parent = ""
    ref = request.get("from_checkpoint")
    if ref and depth < 8:
        try:
            parent = _job_identity(state, state.resolve_checkpoint(str(ref))[0], depth + 1)
        except ApiError:
            parent = str(ref)
    recipe = {k: request.get(k) for k in ("learning_rate", "n_epochs", "suffix")}
    recipe["data"] = [rec.n_lines, rec.file_bytes]  # the file's id is random; its size is not
    return json.dumps([rec.model, method, recipe, parent], sort_keys=True, default=str)


def _is_lora(rec: JobRecord) -> bool:
    ttype = rec.job.request.get("training_type") or {"type": "Lora"}
    return str(ttype.get("type", "Lora")).lower() == "lora"


def resolve(state: State, model: str) -> Served:
    """What answers as ``model`` right now, or the error Together would give."""
    if model in SERVERLESS_MODELS:
        m = SERVERLESS_MODELS[model]
        return Served(model, 0.0, 1.0, m, m.context_length, "serverless")
    endpoints = getattr(state, "endpoints", {})
    now = state.clock.now()
    idle = None
    for ep in endpoints.values():
        if model in (ep.name, ep.model):
            if ep.state_at(now) == "STARTED":
                skill, length, ident = _tuned_or_base(state, ep.model)
                return Served(model, skill, length, None, 8192, f"endpoint {ep.id}", ident)
            idle = idle or ep
    if idle is not None and model == idle.name:
        raise ApiError(400, f"Endpoint {idle.name} is {idle.state_at(now)}: start it to send "
                       "requests (simulated)", param="model")  # fmt: skip
    for rec in state.jobs.values():
        if model == rec.model_output_name:
            if rec.job.status_at(now) != "completed":
                raise ApiError(404, f"Model {model} is not ready: its fine-tune {rec.job.id} "
                               "has not completed (simulated)", param="model")  # fmt: skip
            price = lora_serverless_price(rec.model) if _is_lora(rec) else None
            if price is None:
                raise ApiError(
                    400,
                    f"Unable to access non-serverless model {model}. Please create a dedicated "
                    "endpoint for it (simulated: its base model does not offer serverless LoRA)",
                    param="model",
                )
            skill, length = _job_skill(state, rec)
            ident = _job_identity(state, rec)
            return Served(model, skill, length, price, 8192, "serverless-lora", ident)
    raise ApiError(
        404,
        f"Unable to access model {model}. Please visit https://api.together.ai/models to "
        "view the list of supported models (simulated).",
        param="model",
    )


def _tuned_or_base(state: State, model: str) -> tuple[float, float, str]:
    for rec in state.jobs.values():
        if model == rec.model_output_name:
            return (*_job_skill(state, rec), _job_identity(state, rec))
    return 0.0, 1.0, model


def _check(body: Any) -> tuple[str, list[dict[str, Any]], dict[str, Any]]:
    if not isinstance(body, dict):
        raise ApiError(400, "request body must be a JSON object")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise ApiError(400, "model is required", param="model")
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
    opts: dict[str, Any] = {}
    for name, lo, hi in (("temperature", 0.0, 2.0), ("top_p", 0.0, 1.0)):
        value = body.get(name)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi
        ):
            raise ApiError(400, f"{name} must be a number in [{lo:g}, {hi:g}]", param=name)
        opts[name] = value
    for name in ("max_tokens", "seed"):
        value = body.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise ApiError(400, f"{name} must be an integer", param=name)
        opts[name] = value
    if opts["max_tokens"] is not None and opts["max_tokens"] < 1:
        raise ApiError(400, "max_tokens must be a positive integer", param="max_tokens")
    n = body.get("n")
    if n not in (None, 1):
        raise ApiError(400, "n > 1 is not simulated: send one request per sample", param="n")
    return model, messages, opts


def _tokens(text: str) -> int:
    return math.ceil(len(text) / 4)


def _prompt_text(messages: list[dict[str, Any]]) -> str:
    from prefnb.judge.prompt import prompt_text  # what the judge is shown as the prompt

    return prompt_text(messages)


def answer(
    served: Served, messages: list[dict[str, Any]], opts: dict[str, Any], fresh: object = None
) -> tuple[str, float]:
    """(text, hidden quality) of ``served``'s answer to ``messages``. ``fresh``: what an
    unseeded draw is keyed by (each call a new one; LocalTogether counts them, so a run's
    draws are new per request yet the same from run to run)."""
    temperature = opts.get("temperature")
    seed = opts.get("seed")
    convo = json.dumps(messages, sort_keys=True, ensure_ascii=False)
    if temperature == 0:
        draw: object = "greedy"
    elif seed is not None:
        draw = f"seed={seed}:t={temperature}"
    else:
        draw = fresh if fresh is not None else secrets.token_hex(8)
    base = served.identity or served.name
    z = _NORMAL.inv_cdf(_uniform("quality", base, convo, draw))
    n_sent = max(1, round((1 + 4 * _uniform("len", base, convo, draw)) * served.length_factor))
    topic = _prompt_text(messages).strip().splitlines()[0][:60] if messages else ""
    parts = [f"About “{topic}”:" if topic else "Answer:"]
    for k in range(n_sent):
        pick = _WORDS[int(_uniform("w", base, convo, draw, k) * len(_WORDS)) % len(_WORDS)]
        parts.append(pick[:1].upper() + pick[1:] + ".")
    tag = hashlib.blake2b(f"{base}\x1f{convo}\x1f{draw}".encode(), digest_size=3).hexdigest()
    parts.append(f"(simulated answer {tag})")
    return " ".join(parts), z + served.skill


def complete(
    state: State, body: Any, *, source: str, discount: float = 1.0, judged_as: str | None = None
) -> dict[str, Any]:
    """Answer one chat request (online or a batch line): the ``ChatCompletion`` JSON.

    Raises :class:`ApiError` as Together would (unknown model, context too long...); bills
    ``state.charges`` (× ``discount``: the Batch API's 50 %) for a serverless answer.
    ``judged_as``: a prompt text the judge will also see this answer under.
    """
    from prefnb.testing.chat import Charge

    model, messages, opts = _check(body)
    served = resolve(state, model)
    n_in = sum(_tokens(m["content"]) for m in messages)
    max_tokens = opts.get("max_tokens")
    if n_in + (max_tokens or 0) > served.context_length:
        raise ApiError(
            400,
            f"Input validation error: inputs tokens + max_new_tokens must be <= "
            f"{served.context_length}. Given: {n_in} inputs tokens and {max_tokens or 0} "
            "max_new_tokens",
            param="messages",
        )
    text, quality = answer(served, messages, opts, f"fresh:{next(state.fresh_draws)}")
    finish = "stop"
    if max_tokens is not None and _tokens(text) > max_tokens:
        text, finish = text[: max_tokens * 4], "length"
    state.judge.know(_prompt_text(messages), text, quality)
    if judged_as is not None:  # an evaluation shows its judge the dataset's prompt column
        state.judge.know(judged_as, text, quality)
    n_out = _tokens(text)
    if served.price is not None:
        cost = served.price.cost_usd(n_in, n_out) * discount
        state.charges.append(Charge(model, n_in, n_out, cost, source))
    return {
        "id": f"chatcmpl-sim-{secrets.token_hex(8)}",
        "object": "chat.completion",
        "created": int(state.clock.wall(state.clock.now())),
        "model": model,
        "prompt": [],
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text, "tool_calls": []},
                "finish_reason": finish,
                "seed": opts.get("seed"),
                "logprobs": None,
            }
        ],
        "usage": {"prompt_tokens": n_in, "completion_tokens": n_out, "total_tokens": n_in + n_out},
    }


def _stream(done: dict[str, Any]) -> bytes:
    """The completion as server-sent events, a few words per chunk, then ``[DONE]``."""
    text = done["choices"][0]["message"]["content"]
    words = text.split(" ")
    chunks = [" ".join(words[i : i + 3]) + (" " if i + 3 < len(words) else "")
              for i in range(0, len(words), 3)]  # fmt: skip
    out = []
    for i, piece in enumerate(chunks):
        last = i == len(chunks) - 1
        event = {
            "id": done["id"],
            "object": "chat.completion.chunk",
            "created": done["created"],
            "model": done["model"],
            "choices": [
                {
                    "index": 0,
                    "delta": {"role": "assistant", "content": piece},
                    "finish_reason": done["choices"][0]["finish_reason"] if last else None,
                }
            ],
        }
        if last:
            event["usage"] = done["usage"]
        out.append(f"data: {json.dumps(event)}\n\n")
    out.append("data: [DONE]\n\n")
    return "".join(out).encode()


def post_model_chat(state: State, body: Any) -> Response:
    """``POST /v1/chat/completions`` for a non-judge request (optionally ``stream: true``)."""
    done = complete(state, body, source="chat")
    if isinstance(body, dict) and body.get("stream"):
        return Response(200, _stream(done), content_type="text/event-stream")
    return Response(200, done)


_VAR = re.compile(r"\{\{-?\s*([A-Za-z_][A-Za-z0-9_]*)\s*-?\}\}")
_REQUEST_KEYS = ("model", "model_source", "system_template", "input_template")


def check_model_request(state: State, spec: dict[str, Any], key: str) -> None:
    """Validate an evaluation's model request object (``model_a``/``model_b``/...)."""
    for name in _REQUEST_KEYS:
        if not isinstance(spec.get(name), str) or not spec.get(name):
            raise ApiError(400, f"parameters.{key}.{name} is required", param=f"{key}.{name}")
    if spec["model_source"] not in ("serverless", "dedicated"):
        raise ApiError(400, f"parameters.{key}.model_source: LocalTogether simulates serverless "
                       "and dedicated models", param=f"{key}.model_source")  # fmt: skip
    for name in ("max_tokens", "temperature"):
        value = spec.get(name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ApiError(400, f"parameters.{key}.{name} is required (a number)",
                           param=f"{key}.{name}")  # fmt: skip
    resolve(state, spec["model"])  # 404/400 now, as Together refuses an unknown model


def _render(template: str, row: dict[str, Any]) -> str:
    return _VAR.sub(lambda m: str(row.get(m.group(1), "")), template)


def model_request_outputs(
    state: State, source: str, rows: list[dict[str, Any]], params: dict[str, Any]
) -> tuple[list[dict[str, Any]], str, str, set[str]]:
    """For a compare whose ``model_a``/``model_b`` are model requests, generate each row's
    answers (into ``model_a_output``/``model_b_output``). Returns (rows, column of A, column of
    B, dataset columns the requests' templates use)."""
    out_rows = [dict(r) for r in rows]
    cols: list[str] = []
    used: set[str] = set()
    for key in ("model_a", "model_b"):
        spec = params[key]
        if isinstance(spec, str):
            cols.append(spec)
            continue
        col = f"{key}_output"
        cols.append(col)
        used |= set(_VAR.findall(spec["system_template"] + spec["input_template"]))
        for row in out_rows:
            body = {
                "model": spec["model"],
                "messages": [
                    {"role": "system", "content": _render(spec["system_template"], row)},
                    {"role": "user", "content": _render(spec["input_template"], row)},
                ],
                "max_tokens": int(spec["max_tokens"]),
                "temperature": float(spec["temperature"]),
            }
            try:
                done = complete(state, body, source=source, judged_as=str(row.get("prompt", "")))
                row[col] = done["choices"][0]["message"]["content"]
            except ApiError as err:
                row[col] = ""
                row[f"{key}_error"] = err.message
    return out_rows, cols[0], cols[1], used
