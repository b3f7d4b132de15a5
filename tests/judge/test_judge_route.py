"""prefnb.route: people get exactly the pairs the judge could not settle, plus an audit."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import prefnb
from prefnb.judge import judge
from prefnb.labels import LabelStore
from prefnb.testing import LocalTogether
from tests.judge.judge_support import MODEL, make_pairs, sim_key


@pytest.fixture(scope="module")
def biased(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[pd.DataFrame, Path, set[tuple[str, str, str]]]:
    df = make_pairs(500, seed=3)
    store = tmp_path_factory.mktemp("route") / "labels.sqlite"
    with LocalTogether(judge={"position_bias": 0.3}) as api:
        api.judge.teach(df, column="true_label")
        judge(df, MODEL, store=store, backend="chat", client=api.client(), progress=False)
        disagree = api.judge.orders_disagree()
    return df, store, disagree


def test_human_pairs_are_exactly_those_whose_orders_disagree_in_the_simulator(
    biased: tuple[pd.DataFrame, Path, set[tuple[str, str, str]]],
) -> None:
    df, store, disagree = biased
    routed = prefnb.route(df, store, audit_rate=0.0)
    keys = [
        sim_key(p[0]["content"], a, b)
        for p, a, b in zip(df["prompt"], df["response_a"], df["response_b"], strict=True)
    ]
    human = {k for k, r in zip(keys, routed["route"], strict=True) if r == "human"}
    assert human == disagree
    assert 0.2 < len(human) / len(df) < 0.4  # 1 − (0.3² + 0.7²)-ish: both orders biased alike
    assert set(routed.loc[routed.route == "human", "route_reason"]) == {"orders disagree"}
    auto = routed[routed.route == "auto"]
    # an unbiased, noiseless judge settles what it settles correctly
    assert (auto["judge_label"] == df.loc[auto.index, "true_label"]).mean() > 0.85


def test_p_first_matches_the_injected_bias_within_its_ci(
    biased: tuple[pd.DataFrame, Path, set[tuple[str, str, str]]],
) -> None:
    _df, store, _ = biased
    row = prefnb.judge_report(store).iloc[0]
    assert row["p_first_lo"] <= 0.5 + 0.3 / 2 <= row["p_first_hi"]
    assert row["p_first_hi"] - row["p_first_lo"] < 0.08


def test_audit_is_a_seeded_sample_of_auto_pairs(
    biased: tuple[pd.DataFrame, Path, set[tuple[str, str, str]]],
) -> None:
    df, store, _ = biased
    none = prefnb.route(df, store, audit_rate=0.0, record=False)
    some = prefnb.route(df, store, audit_rate=0.2, seed=7, record=False)
    again = prefnb.route(df, store, audit_rate=0.2, seed=7, record=False)
    other = prefnb.route(df, store, audit_rate=0.2, seed=8, record=False)
    assert some["route"].equals(again["route"])
    assert not some["route"].equals(other["route"])
    audited = some["route"] == "audit"
    assert (none.loc[audited, "route"] == "auto").all()  # only auto pairs are audited
    assert (some["route"] == "human").equals(none["route"] == "human")
    share = audited.sum() / (none["route"] == "auto").sum()
    assert 0.12 < share < 0.28
    # membership depends on the pair, not on the rest of the frame
    half = prefnb.route(df.iloc[::2], store, audit_rate=0.2, seed=7, record=False)
    assert half["route"].equals(some["route"].iloc[::2])


def test_unjudged_and_failed_pairs_go_to_people(tmp_path: Path) -> None:
    df = make_pairs(30)
    store = tmp_path / "l.sqlite"
    with LocalTogether(judge={"invalid": 0.3}) as api:
        judge(df.head(20), MODEL, store=store, backend="chat", client=api.client(), progress=False)
    routed = prefnb.route(df, store, audit_rate=0.0)
    assert (routed["route_reason"].iloc[20:] == "not judged").all()
    failed = routed["route_reason"] == "judge failed"
    assert failed.sum() > 0
    assert (routed.loc[failed, "route"] == "human").all()
    with LabelStore(store) as s:
        stored = s.judge_routes()
    assert len(stored) == 30
    assert set(stored["route"]) <= {"auto", "human"}


def test_min_confidence_sends_unsure_verdicts_to_people(tmp_path: Path) -> None:
    store = tmp_path / "l.sqlite"
    df = make_pairs(3)
    keys = [
        prefnb.pair_id(p, a, b)
        for p, a, b in zip(df["prompt"], df["response_a"], df["response_b"], strict=True)
    ]
    rows = []
    for pid, key, conf in zip(df["pair_id"], keys, (0.9, 0.5, None), strict=True):
        for shown in ("ab", "ba"):
            rows.append(
                {
                    "pair_id": pid,
                    "content_key": key,
                    "annotator": "judge:m",
                    "rubric_hash": "r",
                    "shown": shown,
                    "verdict": "a",
                    "confidence": conf,
                }
            )
    with LabelStore(store) as s:
        s.record_judge_verdicts(rows)
    routed = prefnb.route(df, store, audit_rate=0, min_confidence=0.8)
    assert routed["route"].tolist() == ["auto", "human", "human"]
    assert routed["route_reason"].tolist()[1:] == ["low confidence", "low confidence"]


def test_several_judges_need_a_name(tmp_path: Path) -> None:
    df = make_pairs(4)
    store = tmp_path / "l.sqlite"
    with LocalTogether() as api:
        for model in (MODEL, "openai/gpt-oss-20b"):
            judge(df, model, store=store, backend="chat", client=api.client(), progress=False)
    with pytest.raises(ValueError, match="several judges"):
        prefnb.route(df, store)
    routed = prefnb.route(df, store, judge="openai/gpt-oss-20b")
    assert set(routed["judge"]) == {"judge:openai/gpt-oss-20b"}
