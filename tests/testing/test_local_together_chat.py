"""LocalTogether's chat completions and simulated judge, through the real together SDK."""

from __future__ import annotations

import json
import time

import httpx
import pytest
import together

from prefnb.testing import LocalTogether
from prefnb.testing.serverless_models import SERVERLESS_MODELS
from prefnb.testing.sim_judge import SimJudge

MODEL = "meta-llama/Llama-3.3-70B-Instruct-Turbo"
CHAT = "POST /v1/chat/completions"


def judge_msg(prompt: str, first: str, second: str) -> list[dict[str, str]]:
    content = json.dumps({"prompt": prompt, "response_A": first, "response_B": second})
    return [{"role": "system", "content": "judge"}, {"role": "user", "content": content}]


@pytest.mark.parametrize(
    "model",
    [
        "meta-llama/Llama-3.3-70B-Instruct-Turbo",
        "Qwen/Qwen2.5-72B-Instruct-Turbo",
        "openai/gpt-oss-20b",
        "meta-llama/Meta-Llama-3.1-405B-Instruct-Turbo",
    ],
)
def test_serves_the_models_togethers_evaluation_docs_use(model: str) -> None:
    with LocalTogether() as api:
        r = api.client().chat.completions.create(
            model=model, messages=[{"role": "user", "content": "Hello there!"}]
        )
        assert r.model == model
        assert r.object == "chat.completion"
        assert r.choices[0].message.content
        assert r.choices[0].finish_reason == "stop"
        assert r.usage is not None
        assert r.usage.prompt_tokens == 3
        assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens
        price = SERVERLESS_MODELS[model]
        expected = price.cost_usd(r.usage.prompt_tokens, r.usage.completion_tokens)
        assert api.spent_usd == pytest.approx(expected)


def test_judge_answers_a_json_verdict() -> None:
    with LocalTogether() as api:
        r = api.client().chat.completions.create(model=MODEL, messages=judge_msg("q", "x", "yy"))
        verdict = json.loads(r.choices[0].message.content)
        assert set(verdict) == {"feedback", "choice"}
        assert verdict["choice"] in ("A", "B")
        assert len(api.judge.log) == 1


def test_refuses_what_together_refuses() -> None:
    with LocalTogether() as api:
        client = api.client(max_retries=0)
        with pytest.raises(together.NotFoundError, match="Unable to access model"):
            client.chat.completions.create(
                model="acme/nope", messages=[{"role": "user", "content": "hi"}]
            )
        with pytest.raises(together.BadRequestError, match="messages"):
            client.chat.completions.create(model=MODEL, messages=[])
        with pytest.raises(together.BadRequestError, match="max_tokens"):
            client.chat.completions.create(
                model=MODEL, messages=[{"role": "user", "content": "hi"}], max_tokens=0
            )
        resp = httpx.post(f"{api.base_url}/v1/chat/completions", json={"model": MODEL})
        assert resp.status_code == 401
        assert api.state.charges == []  # refused requests are never billed


def test_max_tokens_truncates_with_finish_reason_length() -> None:
    with LocalTogether() as api:
        r = api.client().chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "hi"}], max_tokens=2
        )
        assert r.choices[0].finish_reason == "length"
        assert r.usage.completion_tokens == 2


def test_faults_on_chat_are_retried_by_the_sdk_and_not_billed() -> None:
    with LocalTogether() as api:
        api.inject(CHAT, status=429, times=1, retry_after=0.01)
        api.inject(CHAT, status=500, times=1)
        api.client(max_retries=2).chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "hi"}]
        )
        assert [r.status for r in api.requests_to(CHAT)] == [429, 500, 200]
        assert len(api.state.charges) == 1
        api.inject(CHAT, drop=True)
        with pytest.raises(together.APIConnectionError):
            api.client(max_retries=0).chat.completions.create(
                model=MODEL, messages=[{"role": "user", "content": "hi"}]
            )


def test_latency_overlaps_between_requests() -> None:
    import concurrent.futures as cf

    with LocalTogether(latency=0.2) as api:
        client = api.client()
        start = time.monotonic()
        with cf.ThreadPoolExecutor(8) as pool:
            list(
                pool.map(
                    lambda _: client.chat.completions.create(
                        model=MODEL, messages=[{"role": "user", "content": "hi"}]
                    ),
                    range(8),
                )
            )
        assert 0.2 <= time.monotonic() - start < 1.2


def test_sim_judge_biases() -> None:
    assert SimJudge(position_bias=1.0).decide("p", "x", "yyy").choice == "A"
    assert SimJudge(position_bias=-1.0).decide("p", "x", "yyy").choice == "B"
    assert SimJudge(length_bias=1.0).decide("p", "x", "yyy").choice == "B"
    assert SimJudge().decide("p", "same", "same").choice == "Tie"
    j = SimJudge(position_bias=0.4, seed=1)
    firsts = sum(j.decide(f"p{i}", f"a{i}", f"b{i}").choice == "A" for i in range(4000))
    assert 0.66 < firsts / 4000 < 0.74  # 0.5 + 0.4 / 2
    assert j.decide("q", "a", "b") == j.decide("q", "a", "b")  # same request, same verdict
    with pytest.raises(ValueError, match="unknown option"):
        LocalTogether(judge={"bias": 0.3})
    with pytest.raises(ValueError, match="position_bias"):
        SimJudge(position_bias=2)
