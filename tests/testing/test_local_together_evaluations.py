"""LocalTogether's /v1/evaluation compare jobs, through the real together SDK."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import together

from prefnb.testing import LocalTogether

MODEL = "meta-llama/Llama-3.3-70B-Instruct-Turbo"


def upload(api: LocalTogether, tmp_path: Path, rows: list[dict[str, Any]]) -> str:
    path = tmp_path / "pairs.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return str(api.client().files.upload(path, purpose="eval", check=False).id)


def params(file_id: str, template: str = "Judge. {{prompt}}", **extra: Any) -> dict[str, Any]:
    return {
        "judge": {"model": MODEL, "model_source": "serverless", "system_template": template},
        "model_a": "response_a",
        "model_b": "response_b",
        "input_data_file_path": file_id,
        **extra,
    }


ROWS = [{"prompt": f"q{i}", "response_a": f"a{i}", "response_b": f"bb{i}"} for i in range(10)]


def test_compare_job_lifecycle_and_result_file(tmp_path: Path) -> None:
    with LocalTogether(speed=1) as api:
        client = api.client()
        fid = upload(api, tmp_path, ROWS)
        api.hold()
        created = client.evals.create(type="compare", parameters=params(fid))
        assert created.status == "pending"
        assert created.workflow_id.startswith("eval-sim-")
        eid = created.workflow_id
        assert client.evals.status(eid).status == "pending"
        api.advance(2.5)
        assert client.evals.retrieve(eid).status == "queued"
        api.advance(1.55)  # 4.05 s: running; 10 rows take 0.1 s more
        job = client.evals.retrieve(eid)
        assert job.status == "running"
        assert job.results is None
        assert [u.status for u in job.status_updates] == ["pending", "queued", "running"]
        api.advance(10)
        job = client.evals.retrieve(eid)
        assert job.status == "completed"
        assert job.type == "compare"
        res = job.results
        assert res.a_wins + res.b_wins + res.ties == 10
        assert res.judge_fail_count == 0
        status = client.evals.status(eid)
        assert status.status == "completed"
        assert status.results.result_file_id == res.result_file_id
        lines = client.files.content(res.result_file_id).read().decode().splitlines()
        assert len(lines) == 10
        row = json.loads(lines[0])
        for key in (
            "prompt",
            "response_a",
            "response_b",
            "judge_raw_output_original",
            "choice_original",
            "judge_feedback_original_order",
            "judge_raw_output_flipped",
            "choice_flipped",
            "judge_feedback_flipped_order",
            "final_decision",
            "evaluation_successful",
            "is_invalid_judge_output",
        ):
            assert key in row
        # choice_flipped is in original-order terms: the raw flipped answer names the other
        raw_flipped = json.loads(row["judge_raw_output_flipped"])["choice"]
        assert {raw_flipped, row["choice_flipped"]} in ({"A", "B"}, {"Tie"})
        listed = client.evals.list()
        assert [j.workflow_id for j in listed] == [eid]
        assert client.evals.list(status="running") == []
        assert api.spent_usd > 0  # billed once, when it completed
        spent = api.spent_usd
        client.evals.retrieve(eid)
        assert api.spent_usd == spent


def test_single_pass_has_only_original_fields(tmp_path: Path) -> None:
    with LocalTogether(speed=1000) as api:
        client = api.client()
        fid = upload(api, tmp_path, ROWS[:3])
        eid = client.evals.create(
            type="compare", parameters=params(fid, disable_position_bias_correction=True)
        ).workflow_id
        api.advance(60)
        job = client.evals.retrieve(eid)
        row = json.loads(client.files.content(job.results.result_file_id).read().splitlines()[0])
        assert "choice_original" in row
        assert "choice_flipped" not in row


def test_an_unused_column_ends_in_user_error(tmp_path: Path) -> None:
    with LocalTogether(speed=1000) as api:
        client = api.client()
        fid = upload(api, tmp_path, [{**r, "id": i} for i, r in enumerate(ROWS)])
        eid = client.evals.create(type="compare", parameters=params(fid)).workflow_id
        api.advance(60)
        job = client.evals.retrieve(eid)
        assert job.status == "user_error"
        assert "Unsupported dataset column(s): ['id']" in job.results.error
        # the prompt column must be used too: a template without {{prompt}} fails the same way
        eid = client.evals.create(type="compare", parameters=params(fid, "Judge.")).workflow_id
        api.advance(60)
        assert "'prompt'" in client.evals.retrieve(eid).results.error
        assert api.state.charges == []


def test_refuses_bad_requests(tmp_path: Path) -> None:
    with LocalTogether() as api:
        client = api.client(max_retries=0)
        fid = upload(api, tmp_path, ROWS)
        bad_judge = params(fid)
        bad_judge["judge"]["model"] = "acme/nope"
        generating = params(fid)
        generating["model_a"] = {"model": MODEL, "model_source": "serverless"}
        for p, match in (
            (bad_judge, "not available"),
            (generating, "model_a.system_template is required"),  # model requests: issue 13
            (params("file-missing"), "not found"),
        ):
            with pytest.raises(together.APIStatusError, match=match):
                client.evals.create(type="compare", parameters=p)
        with pytest.raises(together.NotFoundError):
            client.evals.retrieve("eval-nope")
        with pytest.raises(together.BadRequestError, match="limit"):
            client.evals.list(limit=500)
        assert api.state.evals == {}


@pytest.mark.parametrize(
    ("pattern", "call"),
    [
        ("POST /v1/evaluation", "create"),
        ("GET /v1/evaluation/*/status", "status"),
        ("GET /v1/evaluation/*", "retrieve"),
        ("GET /v1/evaluation", "list"),
    ],
)
def test_faults_on_every_evaluation_route(tmp_path: Path, pattern: str, call: str) -> None:
    with LocalTogether(speed=1000) as api:
        client = api.client(max_retries=0)
        fid = upload(api, tmp_path, ROWS[:2])
        eid = (
            ""
            if call == "create"
            else client.evals.create(type="compare", parameters=params(fid)).workflow_id
        )
        api.inject(pattern, status=503)
        calls = {
            "create": lambda: client.evals.create(type="compare", parameters=params(fid)),
            "status": lambda: client.evals.status(eid),
            "retrieve": lambda: client.evals.retrieve(eid),
            "list": lambda: client.evals.list(),
        }
        with pytest.raises(together.InternalServerError):
            calls[call]()
        assert len(api.state.evals) == (0 if call == "create" else 1)  # a fault creates nothing
        calls[call]()  # the fault was one-shot
        assert len(api.state.evals) == 1
