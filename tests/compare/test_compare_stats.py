"""Win-rate statistics against the simulator's truth (in-process: 200 comparisons)."""

from __future__ import annotations

import numpy as np
import pytest

from prefnb.compare.stats import lc_win_rate, pair_scores, wilson, win_stats
from prefnb.testing.serverless_models import SERVERLESS_MODELS
from prefnb.testing.sim_judge import SimJudge
from prefnb.testing.sim_models import Served, answer, dpo_gain, true_win_rate

PRICE = SERVERLESS_MODELS["openai/gpt-oss-20b"]


def simulated_comparison(
    seed: int, n: int, *, skill_a: float, skill_b: float, judge: SimJudge,
    len_a: float = 1.0, len_b: float = 1.0,
) -> tuple[list[float], list[float]]:  # fmt: skip
    """Both models answer ``n`` prompts (the simulator's answers and hidden qualities); the
    simulated judge sees both orders. Returns (pair scores, length differences)."""
    a = Served(f"sim/a-{seed}", skill_a, len_a, PRICE, 8192, "serverless")
    b = Served(f"sim/b-{seed}", skill_b, len_b, PRICE, 8192, "serverless")
    ab, ba, diff = [], [], []
    for i in range(n):
        msgs = [{"role": "user", "content": f"prompt {seed}-{i}"}]
        ta, qa = answer(a, msgs, {"seed": seed, "temperature": 0.8})
        tb, qb = answer(b, msgs, {"seed": seed, "temperature": 0.8})
        judge.know(msgs[0]["content"], ta, qa)
        judge.know(msgs[0]["content"], tb, qb)
        first = judge.decide(msgs[0]["content"], ta, tb).choice
        second = judge.decide(msgs[0]["content"], tb, ta).choice
        ab.append({"A": "a", "B": "b"}.get(first, "tie"))
        ba.append({"A": "b", "B": "a"}.get(second, "tie"))
        diff.append(len(ta) - len(tb))
    scores = pair_scores(ab, ba)
    return [s for s in scores if s is not None], diff


@pytest.mark.parametrize(("position_bias", "noise"), [(0.0, 0.0), (0.2, 0.1)])
def test_ci_covers_the_true_rate_in_95_percent_of_200_comparisons(
    position_bias: float, noise: float
) -> None:
    skill_a, skill_b = 0.4 + dpo_gain(0.1), 0.4
    truth = true_win_rate(skill_a, skill_b)
    # what the simulated judge's score estimates: a position-biased verdict is the first
    # shown (A in one order, B in the other), a noisy one a coin flip, else the truth
    expected = 0.5 * position_bias + (1 - position_bias) * (0.5 * noise + (1 - noise) * truth)
    covered = 0
    for seed in range(200):
        judge = SimJudge(position_bias=position_bias, noise=noise, seed=seed)
        scores, diff = simulated_comparison(seed, 80, skill_a=skill_a, skill_b=skill_b, judge=judge)
        st = win_stats(scores, diff, reps=10)
        covered += st.ci_low <= expected <= st.ci_high
    assert covered >= 190, f"covered {covered} / 200"


def test_lc_win_rate_removes_a_pure_length_bias() -> None:
    # equal models, A more verbose; a judge that only prefers the longer answer. One comparison's
    # LC estimate is noisy (the verdicts are almost separable by length), so the check is over
    # 20 seeded comparisons: the raw win rate is fooled every time, the LC win rate is 50% on
    # average and its CI holds 50% in nearly every comparison.
    raw, lc, covered = [], [], 0
    for seed in range(20):
        judge = SimJudge(length_bias=1.0, seed=seed)
        scores, diff = simulated_comparison(seed, 400, skill_a=0.0, skill_b=0.0, judge=judge,
                                            len_a=1.3)  # fmt: skip
        st = win_stats(scores, diff, reps=200)
        raw.append(st.win_rate)
        lc.append(st.lc_win_rate)
        covered += st.lc_ci_low <= 0.5 <= st.lc_ci_high
    assert min(raw) > 0.6
    assert abs(float(np.mean(lc)) - 0.5) < 0.02
    assert covered >= 17


def test_lc_win_rate_keeps_a_real_quality_gap_with_an_unbiased_judge() -> None:
    judge = SimJudge()
    skill_a = dpo_gain(0.1)
    scores, diff = simulated_comparison(1, 400, skill_a=skill_a, skill_b=0.0, judge=judge,
                                        len_a=1.0)  # fmt: skip
    st = win_stats(scores, diff)
    assert abs(st.lc_win_rate - st.win_rate) < 0.05
    assert st.ci_low <= true_win_rate(skill_a, 0.0) <= st.ci_high


def test_hand_computed_values() -> None:
    # Newcombe (1998), Table I, method 4 (score interval with continuity correction)
    for k, n, want in ((81, 263, (0.2535, 0.3682)), (15, 148, (0.0598, 0.1644)),
                       (0, 20, (0.0, 0.2005))):  # fmt: skip
        lo, hi = wilson(k / n, n)
        assert (round(lo, 4), round(hi, 4)) == want
    assert pair_scores(["a", "a", "b", None], ["a", "b", "tie", None]) == [1.0, 0.5, 0.25, None]
    # symmetric data: θ = 0
    assert lc_win_rate([1, 0, 1, 0], [5, 5, -5, -5]) == pytest.approx(0.5, abs=1e-6)
    st = win_stats([1, 1, 1, 0.5, 0], [0, 0, 0, 0, 0], ci="bootstrap", reps=200)
    assert (st.wins, st.losses, st.ties, st.n) == (3, 1, 1, 5)
    assert st.win_rate == pytest.approx(0.7)
    assert st.tie_rate == pytest.approx(0.2)
    assert st.lc_win_rate == pytest.approx(0.7, abs=1e-6)  # no length difference: LC = raw
    with pytest.raises(ValueError, match="ci must be"):
        win_stats([1], [0], ci="exact")
    assert np.isnan(win_stats([], []).win_rate)
