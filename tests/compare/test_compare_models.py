"""compare_models over HTTP with the real together client: DPO vs SFT at LocalTogether."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import prefnb
from prefnb.testing import LocalTogether
from prefnb.testing.sim_models import SFT_GAIN, dpo_gain, true_win_rate

from .conftest import JUDGE, heldout, sft_and_dpo

CHAT = "POST /v1/chat/completions"


def test_dpo_beats_sft_and_the_summary_has_every_figure(api: LocalTogether, tmp_path: Path) -> None:
    sft, dpo = sft_and_dpo(api, beta=0.1)
    res = prefnb.compare_models(
        heldout(150), model_a=dpo, model_b=sft, judge=JUDGE, store=tmp_path / "l.sqlite",
        cache=tmp_path / "g.sqlite", client=api.client(), progress=False,
    )  # fmt: skip
    s = res.summary
    assert s["n"] == 150
    truth = true_win_rate(SFT_GAIN + dpo_gain(0.1), SFT_GAIN)
    assert s["ci_low"] <= truth <= s["ci_high"]
    assert s["win_rate"] > 0.6
    assert s["position_consistency"] == 1.0  # the default simulated judge has no bias
    assert s["tie_rate"] == 0.0
    assert 0 <= s["lc_ci_low"] <= s["lc_win_rate"] <= s["lc_ci_high"] <= 1
    assert s["cost_usd"] == pytest.approx(api.spent_usd)
    # same prompts to both models, judged in both orders
    sent = [r.body for r in api.requests_to(CHAT)]
    gen = [b for b in sent if b["model"] in (dpo.model_output_name, sft.model_output_name)]
    assert len(gen) == 300
    assert sum(b["model"] == JUDGE for b in sent) == 300
    html = res._repr_html_()
    assert "win rate of A" in html
    assert "length-controlled" in html
    # a re-run is free: answers and verdicts are cached
    n_before = len(api.requests_to(CHAT))
    again = prefnb.compare_models(
        heldout(150), model_a=dpo, model_b=sft, judge=JUDGE, store=tmp_path / "l.sqlite",
        cache=tmp_path / "g.sqlite", client=api.client(), progress=False,
    )  # fmt: skip
    assert len(api.requests_to(CHAT)) == n_before
    assert again.summary["win_rate"] == s["win_rate"]


def test_pairs_are_blind_and_people_are_reported_beside_the_judge(
    api: LocalTogether, tmp_path: Path
) -> None:
    sft, dpo = sft_and_dpo(api)
    store = tmp_path / "l.sqlite"
    res = prefnb.compare_models(
        heldout(40), model_a=dpo, model_b=sft, judge=JUDGE, store=store,
        cache=tmp_path / "g.sqlite", client=api.client(), progress=False, blind_seed=3,
    )  # fmt: skip
    blind = res.pairs
    prefnb.check_pairs(blind)
    text = json.dumps(blind.to_dict("records"), default=str)
    assert dpo.model_output_name not in text
    assert sft.model_output_name not in text
    assert "model_a" not in blind.columns
    dpo_first = sum(a in set(res.frame["response_a"]) for a in blind["response_a"])
    assert 5 < dpo_first < 35  # sides shuffled
    # a person who always agrees with the judge, labelling the blind (shuffled) sides
    judge_label = dict(zip(res.frame["response_a"], res.frame["judge_label"], strict=True))
    events = []
    for rec in blind.to_dict("records"):
        dpo_side = "a" if rec["response_a"] in judge_label else "b"
        verdict = judge_label.get(rec["response_a"]) or judge_label.get(rec["response_b"])
        said = dpo_side if verdict == "a" else ("b" if dpo_side == "a" else "a")
        events.append({"pair_id": rec["pair_id"], "annotator": "ana", "kind": "label",
                       "verdict": said})  # fmt: skip
    with prefnb.LabelStore(store) as s:
        s.record_many(events)
    human = res.human(store)
    assert human["human_n"] == 40
    assert human["agreement"] == 1.0
    assert human["human_win_rate"] == pytest.approx(res.summary["win_rate"])


def test_a_failing_model_is_reported_not_dropped(api: LocalTogether, tmp_path: Path) -> None:
    sft, _ = sft_and_dpo(api)
    prompts = [*heldout(5), "y" * 40_000]  # beyond the fine-tune's context
    with pytest.warns(UserWarning, match="requests failed"):
        res = prefnb.compare_models(
            prompts, model_a=sft, model_b="openai/gpt-oss-20b", judge=JUDGE,
            store=tmp_path / "l.sqlite", cache=tmp_path / "g.sqlite", client=api.client(),
            progress=False,
        )  # fmt: skip
    assert res.summary["n"] == 5
    assert res.summary["failed"] == 1
    assert "failed" in res._repr_html_()


def test_evaluations_engine_generates_and_judges_in_one_compare_job(
    api: LocalTogether, tmp_path: Path
) -> None:
    sft, dpo = sft_and_dpo(api)
    res = prefnb.compare_models(
        heldout(150), model_a=dpo, model_b=sft, judge=JUDGE, engine="evaluations",
        client=api.client(), poll=0.01, progress=False,
    )  # fmt: skip
    (create,) = api.requests_to("POST /v1/evaluation")
    params = create.body["parameters"]
    assert params["model_a"]["model"] == dpo.model_output_name
    assert params["model_b"]["input_template"] == "{{prompt}}"
    assert api.requests_to(CHAT) == []  # Together generated and judged: no chat requests
    s = res.summary
    assert s["n"] == 150
    truth = true_win_rate(SFT_GAIN + dpo_gain(0.1), SFT_GAIN)
    assert s["ci_low"] <= truth <= s["ci_high"]
    assert s["position_consistency"] == 1.0
    assert s["cost_usd"] > 0
    assert res.frame["response_a"].str.len().gt(0).all()
    # a re-run adopts the same job
    again = prefnb.compare_models(
        heldout(150), model_a=dpo, model_b=sft, judge=JUDGE, engine="evaluations",
        client=api.client(), poll=0.01, progress=False,
    )  # fmt: skip
    assert len(api.requests_to("POST /v1/evaluation")) == 1
    assert again.summary["win_rate"] == s["win_rate"]
