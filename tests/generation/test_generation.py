"""prefnb.generate with the real ``together`` client over HTTP against LocalTogether."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

import prefnb
from prefnb.generation import CostError, GenerateError, GenerationCache, generate
from prefnb.testing import LocalTogether

MODEL = "openai/gpt-oss-20b"
SMALL_CONTEXT = "Qwen/Qwen2.5-72B-Instruct-Turbo"  # 32k context: a huge prompt is refused
CHAT = "POST /v1/chat/completions"


@pytest.fixture(autouse=True)
def no_real_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TOGETHER_API_KEY", raising=False)
    monkeypatch.delenv("TOGETHER_BASE_URL", raising=False)


def prompts(n: int) -> list[str]:
    return [f"Question {i}: how does step {i} work?" for i in range(n)]


def test_online_and_batch_give_the_same_candidates(tmp_path: Path) -> None:
    with LocalTogether(speed=1000) as api:
        online = generate(prompts(12), model=MODEL, n=3, cache=tmp_path / "o.sqlite",
                          client=api.client(), progress=False)  # fmt: skip
        batch = generate(prompts(12), model=MODEL, n=3, mode="batch", cache=tmp_path / "b.sqlite",
                         client=api.client(), poll=0.01, progress=False)  # fmt: skip
        assert len(api.requests_to("POST /v1/batches")) == 1
        uploaded = [
            r for r in api.requests_to("POST /v1/files") if r.body["purpose"] == "batch-api"
        ]
        assert len(uploaded) == 1
    cols = ["pair_id", "response_a", "response_b", "model_a", "model_b", "seed_a", "seed_b"]
    pd.testing.assert_frame_equal(online[cols], batch[cols])
    assert len(online) == 12 * 3  # all pairs of 3 answers
    assert (online["source"] == "generated").all()
    prefnb.check_pairs(online)
    # the batch is half price (same tokens)
    assert batch.attrs["generation"]["cost_usd"] == pytest.approx(
        online.attrs["generation"]["cost_usd"] / 2
    )
    # a different seed gives different candidates
    with LocalTogether() as api:
        other = generate(prompts(12), model=MODEL, n=3, seed=7, cache=tmp_path / "o.sqlite",
                         client=api.client(), progress=False)  # fmt: skip
    assert not set(other["response_a"]) & set(online["response_a"])


def test_rerun_is_served_from_the_cache(tmp_path: Path) -> None:
    cache = tmp_path / "g.sqlite"
    with LocalTogether() as api:
        first = generate(prompts(10), model=MODEL, cache=cache, client=api.client(), progress=False)
        n_first = len(api.requests_to(CHAT))
        again = generate(prompts(10), model=MODEL, cache=cache, client=api.client(), progress=False)
        assert len(api.requests_to(CHAT)) == n_first == 20
    assert again.attrs["generation"]["cached"] == 20
    assert again.attrs["generation"]["estimate"].requests == 0
    pd.testing.assert_frame_equal(first, again)


def test_models_gives_one_answer_from_each(tmp_path: Path) -> None:
    other = "meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo"
    with LocalTogether() as api:
        ab = generate(prompts(5), models=[MODEL, other], cache=tmp_path / "g.sqlite",
                      client=api.client(), progress=False)  # fmt: skip
        sent = Counter(r.body["model"] for r in api.requests_to(CHAT))
    assert sent == {MODEL: 5, other: 5}
    assert (ab["model_a"] == MODEL).all()
    assert (ab["model_b"] == other).all()
    assert len(ab) == 5


def test_cost_is_estimated_first_and_max_cost_refuses(tmp_path: Path) -> None:
    with LocalTogether() as api:
        with pytest.raises(CostError, match="above max_cost"):
            generate(prompts(50), model=MODEL, max_tokens=4096, max_cost=0.0001,
                     cache=tmp_path / "g.sqlite", client=api.client(), progress=False)  # fmt: skip
        with pytest.raises(CostError, match="cannot be estimated"):
            generate(prompts(5), model="acme/unpriced", max_cost=1.0,
                     cache=tmp_path / "g.sqlite", client=api.client(), progress=False)  # fmt: skip
        assert api.requests_to(CHAT) == []
        ok = generate(prompts(50), model=MODEL, max_tokens=256, max_cost=1.0,
                      cache=tmp_path / "g.sqlite", client=api.client(), progress=False)  # fmt: skip
    report = ok.attrs["generation"]
    assert report["estimate"].usd is not None
    assert report["cost_usd"] <= report["estimate"].usd
    assert report["cost_usd"] == pytest.approx(api.spent_usd)


def test_failed_requests_are_reported_online_and_from_the_batch_error_file(
    tmp_path: Path,
) -> None:
    ps = [*prompts(6), "x" * 200_000]  # longer than the model's context: Together refuses it
    for mode in ("online", "batch"):
        with LocalTogether(speed=1000) as api:
            with pytest.warns(UserWarning, match="2 of 14 requests failed"):
                cands = generate(ps, model=SMALL_CONTEXT, mode=mode, client=api.client(),
                                 cache=tmp_path / f"{mode}.sqlite", poll=0.01,
                                 progress=False)  # fmt: skip
            if mode == "batch":
                (batch,) = api.state.batches.values()
                assert len(batch.errors) == 2
                assert batch.error_file_id
        failed = cands.attrs["failures"]
        assert failed["prompt_index"].tolist() == [6, 6]
        assert failed["error"].str.contains("must be <= 32768").all()
        assert len(cands) == 6  # the other prompts' pairs are all there


def test_429_and_5xx_are_retried_with_backoff(tmp_path: Path) -> None:
    with LocalTogether() as api:
        api.inject(CHAT, status=429, times=3)
        api.inject(CHAT, status=503, times=2)
        api.inject(CHAT, drop=True, times=1)
        cands = generate(prompts(5), model=MODEL, cache=tmp_path / "g.sqlite",
                         client=api.client(), progress=False)  # fmt: skip
    assert len(cands) == 5
    assert cands.attrs["generation"]["retries"] == 6
    assert cands.attrs["generation"]["maybe_duplicated"] == 1  # the dropped connection
    assert cands.attrs["failures"].empty


def test_batch_create_is_never_sent_twice_after_a_dropped_answer(tmp_path: Path) -> None:
    with LocalTogether(speed=1000) as api:
        real = api._dispatch
        lost: list[object] = []

        def dispatch(req):  # type: ignore[no-untyped-def]
            resp = real(req)
            if req.method == "POST" and req.path == "/v1/batches" and not lost:
                lost.append(resp)
                return None  # created at Together, but the answer never arrives
            return resp

        api._dispatch = dispatch  # type: ignore[method-assign]
        cands = generate(prompts(4), model=MODEL, mode="batch", cache=tmp_path / "g.sqlite",
                         client=api.client(), poll=0.01, progress=False)  # fmt: skip
        assert lost
        assert len(api.requests_to("POST /v1/batches")) == 1
        assert len(api.requests_to("GET /v1/batches")) >= 1  # reconciled by listing
        assert len(api.state.batches) == 1
    assert len(cands) == 4


def test_batch_in_flight_is_adopted_by_a_rerun(tmp_path: Path) -> None:
    cache = tmp_path / "g.sqlite"
    with LocalTogether(speed=1000) as api:
        api.hold()
        store = GenerationCache(cache)
        with pytest.raises(TimeoutError):
            # a poll that gives up stands in for a kernel killed while the batch runs
            def stop(pct: float, text: str) -> None:
                raise TimeoutError(text)

            from prefnb.generation.batch import run_batch
            from prefnb.generation.requests import build_tasks

            tasks = build_tasks([[{"role": "user", "content": p}] for p in prompts(4)], [MODEL],
                                n=2, temperature=0.8, max_tokens=1024, seed=0)  # fmt: skip
            run_batch(tasks, client=api.client(), cache=store, prices={}, poll=0.01,
                      progress=stop)  # fmt: skip
        store.close()
        api.release()
        cands = generate(prompts(4), model=MODEL, mode="batch", cache=cache,
                         client=api.client(), poll=0.01, progress=False)  # fmt: skip
        assert len(api.requests_to("POST /v1/batches")) == 1
    assert len(cands) == 4


_CHILD = textwrap.dedent(
    """
    import sys
    import together
    from prefnb.generation import generate
    client = together.Together(api_key="sim-local-key", base_url=sys.argv[1])
    ps = [f"Question {i}: how does step {i} work?" for i in range(int(sys.argv[3]))]
    generate(ps, model="openai/gpt-oss-20b", n=2, cache=sys.argv[2], client=client,
             concurrency=4, progress=False)
    """
)


def _key(body: dict) -> str:  # type: ignore[type-arg]
    return json.dumps([body["messages"], body.get("seed")], sort_keys=True)


def test_kill_mid_generate_then_rerun_requests_each_missing_answer_once(tmp_path: Path) -> None:
    n, concurrency = 120, 4
    cache = tmp_path / "g.sqlite"
    root = Path(__file__).resolve().parents[2]
    with LocalTogether(latency=0.02) as api:
        child = subprocess.Popen(
            [sys.executable, "-c", _CHILD, api.base_url, str(cache), str(n)],
            cwd=root,
            env={**os.environ, "PYTHONPATH": str(root)},
        )
        try:
            deadline = time.monotonic() + 60
            while len(api.requests_to(CHAT)) < n // 2 and time.monotonic() < deadline:
                time.sleep(0.01)
            child.send_signal(signal.SIGKILL)
        finally:
            child.wait(timeout=30)
        # requests the killed child had in flight are logged when the server finishes them
        first, settled = -1, len(api.requests_to(CHAT))
        while first != settled:
            time.sleep(0.2)
            first, settled = settled, len(api.requests_to(CHAT))
        store = GenerationCache(cache)
        committed = len(store)
        store.close()
        assert 0 < committed <= first < 2 * n
        cands = generate([f"Question {i}: how does step {i} work?" for i in range(n)],
                         model=MODEL, n=2, cache=cache, client=api.client(), concurrency=4,
                         progress=False)  # fmt: skip
        rerun = [_key(r.body) for r in api.requests_to(CHAT)[first:]]
    counts = Counter(rerun)
    assert max(counts.values()) == 1  # each missing answer requested once
    assert len(rerun) == 2 * n - committed  # and only the missing ones
    assert first - committed <= concurrency  # lost with the kill: at most one per worker
    assert len(cands) == n
    assert cands.attrs["failures"].empty


def test_n_above_two_all_pairs_or_best_vs_worst(tmp_path: Path) -> None:
    with LocalTogether() as api:
        allp = generate(prompts(4), model=MODEL, n=4, cache=tmp_path / "g.sqlite",
                        client=api.client(), progress=False)  # fmt: skip
        bvw = generate(prompts(4), model=MODEL, n=4, pairs="best_vs_worst",
                       judge="meta-llama/Llama-3.3-70B-Instruct-Turbo",
                       judge_store=tmp_path / "l.sqlite", cache=tmp_path / "g.sqlite",
                       client=api.client(), progress=False)  # fmt: skip
        one = generate(prompts(4), model=MODEL, n=4, pairs="none", cache=tmp_path / "g.sqlite",
                       client=api.client(), progress=False)  # fmt: skip
        assert len(api.requests_to(CHAT)) == 16 + 6 * 4 * 2  # answers once, then judge passes
    assert len(allp) == 4 * 6
    assert len(bvw) == 4
    assert set(bvw["pair_id"]) <= set(allp["pair_id"])
    assert len(one) == 16
    assert set(one["response"]) == set(allp["response_a"]) | set(allp["response_b"])


def test_bad_input_is_named(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="prompt 1"):
        generate(["ok", 42], model=MODEL, cache=tmp_path / "g.sqlite")
    with pytest.raises(ValueError, match=r"model=\.\.\. \(n answers each\) or models"):
        generate(["ok"], cache=tmp_path / "g.sqlite")
    with pytest.raises(ValueError, match="n must be ≥ 2"):
        generate(["ok"], model=MODEL, n=1, cache=tmp_path / "g.sqlite")
    (tmp_path / "bad.sqlite").write_bytes(b"not a database at all" * 100)
    with pytest.raises(ValueError, match=r"bad\.sqlite: not a usable SQLite file"):
        generate(["ok"], model=MODEL, cache=tmp_path / "bad.sqlite")
    with LocalTogether() as api, pytest.raises(GenerateError, match="acme/none"):
        generate(["ok"], model="acme/none", cache=tmp_path / "g.sqlite", client=api.client(),
                 progress=False)  # fmt: skip


def test_canary_key_appears_nowhere(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    canary = "sk-canary-9e0d1c2b3a"
    with LocalTogether(speed=1000) as api:
        client = api.client(api_key=canary)
        a = generate(prompts(4), model=MODEL, cache=tmp_path / "g.sqlite", client=client)
        b = generate(prompts(4), model=MODEL, mode="batch", seed=3, poll=0.01,
                     cache=tmp_path / "g.sqlite", client=client)  # fmt: skip
        bodies = json.dumps([r.body for r in api.requests], default=str)
    out, err = capfd.readouterr()
    texts = [out, err, bodies, a.to_json(), b.to_json(), repr(a.attrs), repr(b.attrs)]
    texts += [p.read_bytes().decode("latin-1") for p in tmp_path.glob("*.sqlite*")]
    assert all(canary not in t for t in texts)


def test_faults_on_the_batch_routes_are_ridden_out(tmp_path: Path) -> None:
    with LocalTogether(speed=1000) as api:
        api.inject("GET /v1/batches/*", status=503, times=2)
        api.inject("GET /v1/files/*/content", status=502, times=1)
        api.inject("POST /v1/batches", status=429, times=1)  # refused before creating: retried
        cands = generate(prompts(6), model=MODEL, mode="batch", cache=tmp_path / "g.sqlite",
                         client=api.client(), poll=0.01, progress=False)  # fmt: skip
        assert len(api.state.batches) == 1
    assert len(cands) == 6
    assert cands.attrs["failures"].empty


def test_a_failed_batch_is_reported(tmp_path: Path) -> None:
    with LocalTogether(speed=1000) as api:
        real = api._dispatch

        def cancel_on_create(req):  # type: ignore[no-untyped-def]
            resp = real(req)
            if req.method == "POST" and req.path == "/v1/batches":
                for rec in api.state.batches.values():
                    rec.cancelled_at = api.clock.now()
            return resp

        api._dispatch = cancel_on_create  # type: ignore[method-assign]
        with pytest.raises(GenerateError, match="ended CANCELLED"):
            generate(prompts(3), model=MODEL, mode="batch", cache=tmp_path / "g.sqlite",
                     client=api.client(), poll=0.01, progress=False)  # fmt: skip
