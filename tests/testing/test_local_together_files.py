"""The real ``together`` client uploads files to LocalTogether over HTTP."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import together

from prefnb.testing import LocalTogether

ROW = {
    "input": {"messages": [{"role": "user", "content": "What is 2+2?"}]},
    "preferred_output": [{"role": "assistant", "content": "4"}],
    "non_preferred_output": [{"role": "assistant", "content": "5"}],
}


@pytest.fixture
def api() -> Iterator[LocalTogether]:
    with LocalTogether(speed=60, strict_spec=True) as server:
        yield server


def write_jsonl(path: Path, rows: list[Any]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def wait_processed(client: Any, file_id: str) -> Any:
    for _ in range(200):
        f = client.files.retrieve(file_id)
        if f.processing_status not in ("PENDING", "QUEUED", "RUNNING"):
            return f
        time.sleep(0.01)
    raise AssertionError(f"{file_id} never finished processing")


def test_base_url_is_what_the_sdk_expects(api: LocalTogether) -> None:
    assert api.base_url == f"http://127.0.0.1:{api.port}"
    assert not api.base_url.endswith("/v1")
    client = api.client()
    assert str(client.base_url).rstrip("/") == api.base_url


def test_upload_is_302_then_put_then_preprocess(api: LocalTogether, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "train.jsonl", [ROW] * 10)
    uploaded = api.client().files.upload(path, purpose="fine-tune")

    assert uploaded.id.startswith("file-sim-")
    assert uploaded.filename == "train.jsonl"
    assert [(r.method, r.status) for r in api.requests] == [
        ("POST", 302),
        ("PUT", 200),
        ("POST", 200),
    ]
    create, put, preprocess = api.requests
    assert create.path == "/v1/files"
    assert create.body == {
        "purpose": "fine-tune",
        "file_name": "train.jsonl",
        "file_type": "jsonl",
        "checksum": hashlib.sha256(path.read_bytes()).hexdigest(),
    }
    assert put.path == f"/_sim_upload/{uploaded.id}"
    assert preprocess.path == f"/v1/files/{uploaded.id}/preprocess"
    assert api.client().files.content(uploaded.id).read() == path.read_bytes()


def test_duplicate_checksum_is_409_and_the_sdk_reuses_the_file(
    api: LocalTogether, tmp_path: Path
) -> None:
    path = write_jsonl(tmp_path / "train.jsonl", [ROW] * 3)
    client = api.client()
    first = client.files.upload(path, purpose="fine-tune")
    again = client.files.upload(path, purpose="fine-tune")

    assert again.id == first.id
    statuses = [(r.method, r.path, r.status) for r in api.requests[3:]]
    # One 409, not retried (x-should-retry: false), then the SDK fetches the existing file.
    assert statuses == [("POST", "/v1/files", 409), ("GET", f"/v1/files/{first.id}", 200)]
    with pytest.raises(Exception, match=first.id):
        client.files.upload(path, purpose="fine-tune", raise_if_already_exists=True)


def test_processing_reports_completed_with_a_validation_report(
    api: LocalTogether, tmp_path: Path
) -> None:
    path = write_jsonl(tmp_path / "train.jsonl", [ROW] * 7)
    client = api.client()
    uploaded = client.files.upload(path, purpose="fine-tune")
    assert uploaded.processing_status == "RUNNING"

    done = wait_processed(client, uploaded.id)
    assert done.processing_status == "COMPLETED"
    assert done.validation_report is not None
    assert done.validation_report.valid is True
    assert done.validation_report.nlines == 7
    assert done.validation_report.dataset_format == "PREFERENCE_OPENAI"
    assert [f.id for f in client.files.list().data] == [uploaded.id]


def test_a_bad_file_is_reported_invalid_with_the_validator_message(
    api: LocalTogether, tmp_path: Path
) -> None:
    bad = dict(ROW, preferred_output=[{"role": "user", "content": "4"}])
    path = write_jsonl(tmp_path / "bad.jsonl", [ROW, bad])
    client = api.client()
    uploaded = client.files.upload(path, purpose="fine-tune")

    done = wait_processed(client, uploaded.id)
    assert done.processing_status == "INVALID_FORMAT"
    report = done.validation_report
    assert report is not None
    assert (report.valid, report.error_type, report.nlines) == (False, "INVALID_FORMAT", 2)
    assert report.error == (
        "The dataset is malformed, the first element of `preferred_output` must have the "
        "'assistant' role on line 2."
    )


def test_a_file_that_is_not_json_lines_is_invalid(api: LocalTogether, tmp_path: Path) -> None:
    path = tmp_path / "broken.jsonl"
    path.write_text(json.dumps(ROW) + "\nnot json\n", encoding="utf-8")
    client = api.client()
    # check=False: the SDK would refuse it locally; the server must catch it too.
    uploaded = client.files.upload(path, purpose="fine-tune", check=False)
    report = wait_processed(client, uploaded.id).validation_report
    assert report is not None
    assert report.valid is False
    assert report.error is not None
    assert "line 2" in report.error


def test_put_with_wrong_token_or_content_is_refused(api: LocalTogether, tmp_path: Path) -> None:
    import httpx

    path = write_jsonl(tmp_path / "train.jsonl", [ROW])
    client = api.client()
    with pytest.raises(together.APIStatusError) as redirect:  # the SDK raises on a 302
        client.post(
            "/v1/files",
            cast_to=httpx.Response,
            body={"purpose": "fine-tune", "file_name": "t.jsonl", "file_type": "jsonl",
                  "checksum": hashlib.sha256(path.read_bytes()).hexdigest()},
            options={"headers": {"Content-Type": "multipart/form-data"}, "follow_redirects": False},
        )  # fmt: skip
    resp = redirect.value.response
    assert resp.status_code == 302
    location = resp.headers["Location"]
    assert httpx.put(location.split("?")[0] + "?token=nope", content=b"x").status_code == 403
    assert httpx.put(location, content=b"other bytes").status_code == 400
    assert httpx.put(location, content=path.read_bytes()).status_code == 200


def test_delete_then_retrieve_is_404(api: LocalTogether, tmp_path: Path) -> None:
    client = api.client()
    uploaded = client.files.upload(write_jsonl(tmp_path / "t.jsonl", [ROW]), purpose="fine-tune")
    assert client.files.delete(uploaded.id).deleted is True
    with pytest.raises(together.NotFoundError):
        client.files.retrieve(uploaded.id)


def test_validation_errors_name_the_uploaded_file_not_a_temporary_copy(
    api: LocalTogether, tmp_path: Path
) -> None:
    path = tmp_path / "pairs.csv"
    path.write_text("prompt,chosen\nhi,yo\n", encoding="utf-8")
    client = api.client()
    uploaded = client.files.upload(path, purpose="fine-tune", check=False)
    report = wait_processed(client, uploaded.id)
    assert report.validation_report is not None
    error = report.validation_report.error
    assert error is not None
    assert error.startswith("Unknown extension of file pairs.csv.")
    assert "localtogether-" not in error
