"""The bundled sample: a clean pair table and a DPO file in Together's safe export profile."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

import prefnb
from prefnb.pairs import check_pairs
from prefnb.records import pair_to_dpo
from prefnb.sample import load_sample, sample_path


def test_sample_is_a_clean_varied_pair_table() -> None:
    df = load_sample()
    check_pairs(df)
    assert 55 <= len(df) <= 70
    labels = df["label"].value_counts(dropna=False)
    for label in ("a", "b", "tie", "both_bad", "skip"):
        assert labels.get(label, 0) >= 1, label
    assert df["label"].isna().sum() >= 5
    assert set(df["annotator"].dropna()) == {"alice", "bob"}
    assert df["model_a"].notna().all()
    assert df["model_b"].notna().all()
    texts = "\n".join(df["response_a"]) + "\n".join(df["response_b"])
    for fence in ("```python", "```js", "```sql", "```bash"):
        assert fence in texts
    assert "$$" in texts
    assert any(len(r) >= 4000 and "|---|" in r for r in df["response_a"])
    assert any(p[0]["role"] == "system" and len(p) >= 3 for p in df["prompt"])
    assert prefnb.load_sample is load_sample


def test_sample_dpo_is_the_labeled_pairs_in_safe_profile() -> None:
    df = load_sample()
    expected = [pair_to_dpo(row) for row in df.to_dict("records")]
    expected = [e for e in expected if e is not None]
    raw = sample_path("sample_dpo.jsonl").read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    assert b"\r" not in raw
    assert raw.endswith(b"\n")
    lines = raw.decode("utf-8").split("\n")[:-1]
    assert [json.loads(line) for line in lines] == expected
    for n, line in enumerate(lines, 1):
        rec = json.loads(line)
        assert set(rec) == {"input", "preferred_output", "non_preferred_output"}, n
        assert set(rec["input"]) == {"messages"}, n
        roles = [m["role"] for m in rec["input"]["messages"]]
        if roles[0] == "system":
            roles = roles[1:]
        assert roles == ["user", "assistant"] * (len(roles) // 2) + ["user"], n
        for key in ("preferred_output", "non_preferred_output"):
            (out,) = rec[key]
            assert out.keys() == {"role", "content"}
            assert out["role"] == "assistant"
            assert isinstance(out["content"], str), n
            assert out["content"].strip(), n
        assert rec["preferred_output"] != rec["non_preferred_output"], n


def test_sample_path_rejects_unknown_names() -> None:
    with pytest.raises(ValueError, match=r"available: sample_pairs.jsonl, sample_dpo.jsonl"):
        sample_path("nope.jsonl")


@pytest.mark.slow
def test_wheel_ships_the_sample_data(tmp_path: Path) -> None:
    """Build the wheel for real and look inside: the data files must be packaged."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(tmp_path),
            str(root),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("prefnb-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "prefnb/data/sample_pairs.jsonl" in names
    assert "prefnb/data/sample_dpo.jsonl" in names
    from prefnb.validation.scan import ACCELERATED

    if ACCELERATED:  # built here, so the wheel carries it and is tagged for this platform
        assert any(n.startswith("prefnb/_scan") and n.endswith(".so") for n in names)
        assert not wheel.name.endswith("-none-any.whl"), wheel.name
    assert "prefnb/_scan.c" not in names or "prefnb/_scan.pyi" in names
    # The Jupyter server config that enables prefnb.server_extension where prefnb is installed.
    suffix = ".data/data/etc/jupyter/jupyter_server_config.d/prefnb.json"
    configs = [n for n in names if n.endswith(suffix)]
    assert len(configs) == 1, sorted(n for n in names if ".data/" in n)
    enabled = json.loads(zipfile.ZipFile(wheel).read(configs[0]))
    assert enabled == {"ServerApp": {"jpserver_extensions": {"prefnb.server_extension": True}}}
