"""prefnb.judge with backend="evaluations": one Together compare job, created once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import prefnb
from prefnb.judge import JudgeError, judge
from prefnb.judge.eval_backend import create_compare_job
from prefnb.testing import LocalTogether
from tests.judge.judge_support import MODEL, make_pairs

CREATE = "POST /v1/evaluation"


def test_both_backends_give_the_same_frame(tmp_path: Path) -> None:
    df = make_pairs(60)
    opts = {"position_bias": 0.3, "length_bias": 0.1, "noise": 0.05}
    with LocalTogether(speed=500, judge=opts) as api:
        chat = judge(
            df,
            MODEL,
            store=tmp_path / "c.sqlite",
            backend="chat",
            client=api.client(),
            progress=False,
        )
        ev = judge(
            df,
            MODEL,
            store=tmp_path / "e.sqlite",
            backend="evaluations",
            client=api.client(),
            poll=0.01,
            progress=False,
        )
        assert len(api.requests_to(CREATE)) == 1
        body = api.requests_to(CREATE)[0].body
    same = ["pair_id", "judge", "verdict_ab", "verdict_ba", "judge_label", "consistent"]
    assert chat.frame[same].equals(ev.frame[same])
    assert (~chat.frame["consistent"]).sum() > 5  # the biases did make orders disagree
    assert ev.eval_id is not None
    assert ev.passes_sent == 120
    params = body["parameters"]
    assert body["type"] == "compare"
    assert params["model_a"] == "response_a"
    assert params["model_b"] == "response_b"
    assert params["judge"]["model"] == MODEL
    assert params["judge"]["model_source"] == "serverless"
    assert "{{prompt}}" in params["judge"]["system_template"]
    assert "disable_position_bias_correction" not in params  # Together's two passes kept


def test_uploaded_dataset_has_only_the_columns_the_job_uses(tmp_path: Path) -> None:
    df = make_pairs(5)  # has pair_id and true_label columns: they must not be uploaded
    with LocalTogether(speed=500) as api:
        run = judge(
            df, MODEL, store=tmp_path / "l.sqlite", client=api.client(), poll=0.01, progress=False
        )
        job = api.client().evals.retrieve(run.eval_id)
        data = api.client().files.content(job.parameters["input_data_file_path"]).read()
    first = data.decode().splitlines()[0]
    assert sorted(__import__("json").loads(first)) == ["prompt", "response_a", "response_b"]
    assert run.frame["judge_label"].notna().all()


def test_single_order_sets_the_flag_and_leaves_consistency_unknown(tmp_path: Path) -> None:
    df = make_pairs(6)
    with LocalTogether(speed=500) as api:
        run = judge(
            df,
            MODEL,
            store=tmp_path / "l.sqlite",
            both_orders=False,
            client=api.client(),
            poll=0.01,
            progress=False,
        )
        params = api.requests_to(CREATE)[0].body["parameters"]
    assert params["disable_position_bias_correction"] is True
    assert run.frame["verdict_ba"].isna().all()
    assert run.frame["consistent"].isna().all()
    routed = prefnb.route(df, tmp_path / "l.sqlite")
    assert set(routed["route_reason"]) == {"one order only"}


def test_create_after_a_lost_answer_adopts_the_job_instead_of_paying_twice(
    tmp_path: Path,
) -> None:
    df = make_pairs(4)
    with LocalTogether(speed=500) as api:
        client = api.client()
        api.inject(CREATE, status=503, times=1)
        run = judge(
            df, MODEL, store=tmp_path / "a.sqlite", client=client, poll=0.01, progress=False
        )
        assert [r.status for r in api.requests_to(CREATE)] == [503, 200]
        assert len(api.state.evals) == 1
        assert not run.eval_adopted
        # a create that reached Together but whose answer was lost: the job exists already
        params = api.requests_to(CREATE)[-1].body["parameters"]
        eval_id, adopted = create_compare_job(client, dict(params))
        assert adopted
        assert eval_id == run.eval_id
        assert len(api.requests_to(CREATE)) == 2
        assert len(api.state.evals) == 1


@pytest.mark.parametrize("fault", [{"drop": True}, {"status": 502}])
def test_a_create_reply_lost_after_the_job_exists_pays_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fault: dict[str, object]
) -> None:
    """Together created the compare job, then the reply was lost (a proxy dropped it): the
    shared billable-create rule reconciles by listing and adopts it; nothing is sent twice,
    and the intent sits in the job ledger like a fine-tune's."""
    monkeypatch.setenv("PREFNB_HOME", str(tmp_path / "home"))
    df = make_pairs(4)
    with LocalTogether(speed=500) as api:
        api.inject(CREATE, after=True, **fault)  # type: ignore[arg-type]
        run = judge(
            df, MODEL, store=tmp_path / "a.sqlite", client=api.client(), poll=0.01,
            progress=False,
        )  # fmt: skip
        assert len(api.requests_to(CREATE)) == 1
        assert len(api.state.evals) == 1
        assert run.eval_id == next(iter(api.state.evals))
        assert run.frame["judge_label"].notna().all()
    assert (tmp_path / "home" / "jobs.sqlite").exists()


def test_a_job_that_fails_raises_with_togethers_reason(tmp_path: Path) -> None:
    with (
        LocalTogether(speed=500, judge={"invalid": 1.0}) as api,
        pytest.raises(JudgeError, match=r"ended error: .*failed judging"),
    ):
        judge(
            make_pairs(5),
            MODEL,
            store=tmp_path / "l.sqlite",
            client=api.client(),
            poll=0.01,
            progress=False,
        )


def test_judge_failures_in_some_rows_are_stored_as_failures(tmp_path: Path) -> None:
    df = make_pairs(40)
    with LocalTogether(speed=500, judge={"invalid": 0.1}) as api:
        run = judge(
            df, MODEL, store=tmp_path / "l.sqlite", client=api.client(), poll=0.01, progress=False
        )
    failed = run.frame["verdict_ab"].isna() | run.frame["verdict_ba"].isna()
    assert 0 < failed.sum() < len(df)
    assert run.frame.loc[failed, "judge_label"].isna().all()
    assert run.frame.loc[failed, "error"].str.contains("invalid verdict").all()


_CHILD = textwrap.dedent(
    """
    import sys
    import together
    from prefnb.judge import judge
    from tests.judge.judge_support import MODEL, make_pairs
    client = together.Together(api_key="sim-local-key", base_url=sys.argv[1])
    judge(make_pairs(30), MODEL, store=sys.argv[2], client=client, poll=0.05, progress=False)
    """
)


def test_kill_while_the_job_runs_then_rerun_adopts_it(tmp_path: Path) -> None:
    store = tmp_path / "l.sqlite"
    root = Path(__file__).resolve().parents[2]
    with LocalTogether(speed=1) as api:  # the job takes ~4 s of simulated (= real) time
        child = subprocess.Popen(
            [sys.executable, "-c", _CHILD, api.base_url, str(store)],
            cwd=root,
            env={**os.environ, "PYTHONPATH": str(root)},
        )
        try:
            deadline = time.monotonic() + 60
            while not api.state.evals and time.monotonic() < deadline:
                time.sleep(0.02)
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=30)
        assert len(api.state.evals) == 1
        api.advance(60)
        run = judge(
            make_pairs(30), MODEL, store=store, client=api.client(), poll=0.01, progress=False
        )
        assert len(api.requests_to(CREATE)) == 1
        assert len(api.state.evals) == 1
    assert run.eval_adopted
    assert run.frame["verdict_ab"].notna().all()


def test_multi_turn_prompts_and_duplicate_pairs_join_back(tmp_path: Path) -> None:
    turns = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Name a prime."},
        {"role": "assistant", "content": "2"},
        {"role": "user", "content": "Another?"},
    ]
    df = prefnb.pairs_frame(
        [{"prompt": turns, "response_a": f"{p}", "response_b": f"{p + 1}"} for p in (3, 5, 7)]
        + [{"prompt": turns, "response_a": "3", "response_b": "4"}]
    )
    df.loc[3, "pair_id"] = "my-own-id"  # same content as row 0 under the user's own id
    with LocalTogether(speed=500, judge={"position_bias": 0.3}) as api:
        ev = judge(
            df, MODEL, store=tmp_path / "e.sqlite", client=api.client(), poll=0.01, progress=False
        )
        chat = judge(
            df,
            MODEL,
            store=tmp_path / "c.sqlite",
            backend="chat",
            client=api.client(),
            progress=False,
        )
    assert ev.passes_sent == 6  # three distinct pairs, two orders
    assert ev.frame["verdict_ab"].notna().all()
    assert ev.frame.iloc[3, 1:].equals(ev.frame.iloc[0, 1:])
    cols = ["verdict_ab", "verdict_ba", "judge_label"]
    assert ev.frame[cols].equals(chat.frame[cols])


def test_wait_false_returns_while_the_job_runs(tmp_path: Path) -> None:
    df = make_pairs(10)
    with LocalTogether(speed=1) as api:
        api.hold()
        run = judge(
            df,
            MODEL,
            store=tmp_path / "l.sqlite",
            client=api.client(),
            wait=False,
            poll=0.01,
            progress=False,
        )
        deadline = time.monotonic() + 30
        while run.eval_id is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not run.done
        assert run.eval_id is not None
        api.advance(60)
        api.release()
        run.wait(timeout=60)
    assert run.done
    assert run.frame["judge_label"].notna().all()


def test_a_tokenizer_sets_the_estimate(tmp_path: Path) -> None:
    df = make_pairs(4)
    with LocalTogether() as api:
        run = judge(
            df,
            MODEL,
            store=tmp_path / "l.sqlite",
            backend="chat",
            client=api.client(),
            tokenizer=lambda text: 1,
            progress=False,
        )
    assert run.estimate.input_tokens == 8 * 2  # two messages per pass, one "token" each
