"""``prefnb.compare_models()``: is model A better than model B on these prompts?

Both models answer the same prompts (through :func:`prefnb.generate`, cached), a judge compares
each pair in both orders (through :func:`prefnb.judge`, verdicts in the label store), and the
result reports A's win rate with a 95 % CI, the tie rate, AlpacaEval 2's length-controlled win
rate (see :mod:`prefnb.compare.stats`), the judge's position consistency, n and the cost.

Example (against LocalTogether, offline):
    >>> import tempfile, pathlib
    >>> from prefnb.testing import LocalTogether
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with LocalTogether() as api:
    ...     res = compare_models([f"q{i}" for i in range(20)], model_a="openai/gpt-oss-20b",
    ...                          model_b="meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo",
    ...                          store=d / "l.sqlite", cache=d / "g.sqlite",
    ...                          client=api.client(), progress=False)
    >>> int(res.summary["n"])
    20
"""

from __future__ import annotations

import html
import json
import math
import os
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from prefnb.compare.stats import WinStats, pair_scores, wilson, win_stats
from prefnb.generation.requests import model_name
from prefnb.generation.run import generate
from prefnb.judge.run import JudgeRun, judge_annotator
from prefnb.judge.run import judge as run_judge
from prefnb.labels.agreement import cohen_kappa
from prefnb.labels.store import LabelStore

__all__ = ["CompareResult", "compare_models"]

DEFAULT_JUDGE = "meta-llama/Llama-3.3-70B-Instruct-Turbo"


def _label(model: Any, name: str) -> str:
    """A short display name: a Job's id/parameter or the model's last path part."""
    return name.rsplit("/", 1)[-1]


@dataclass
class CompareResult:
    """What :func:`compare_models` measured. ``summary`` is a Series; ``frame`` one row per
    prompt (judge verdicts, score, lengths); ``pairs`` a blind pair table for people."""

    model_a: str
    model_b: str
    judge: str
    stats: WinStats
    position_consistency: float
    cost_usd: float
    frame: pd.DataFrame
    judge_run: JudgeRun | None = None
    failures: pd.DataFrame = field(default_factory=pd.DataFrame)
    params: dict[str, Any] = field(default_factory=dict)
    blind_seed: int = 0
    _swapped: dict[str, bool] = field(default_factory=dict, repr=False)
    _blind: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def summary(self) -> pd.Series:
        s = self.stats
        return pd.Series(
            {
                "model_a": self.model_a,
                "model_b": self.model_b,
                "judge": self.judge,
                "n": s.n,
                "win_rate": s.win_rate,
                "ci_low": s.ci_low,
                "ci_high": s.ci_high,
                "tie_rate": s.tie_rate,
                "lc_win_rate": s.lc_win_rate,
                "lc_ci_low": s.lc_ci_low,
                "lc_ci_high": s.lc_ci_high,
                "position_consistency": self.position_consistency,
                "wins": s.wins,
                "losses": s.losses,
                "ties": s.ties,
                "failed": len(self.failures),
                "cost_usd": self.cost_usd,
                "ci_method": s.ci_method,
            },
            name="compare",
        )

    @property
    def pairs(self) -> pd.DataFrame:
        """The compared answers as a blind pair table for the Labeler: no model names, and
        each pair's sides shuffled (seeded) so people cannot learn which side is which model.
        :meth:`human` undoes the shuffle."""
        if self._blind is None:
            rng = np.random.default_rng(self.blind_seed)
            rows = []
            for rec in self.frame.to_dict("records"):
                swap = bool(rng.random() < 0.5)
                a, b = (rec["response_b"], rec["response_a"]) if swap else (
                    rec["response_a"], rec["response_b"])  # fmt: skip
                rows.append({"prompt": rec["prompt"], "response_a": a, "response_b": b,
                             "source": "compare"})  # fmt: skip
            from prefnb.pairs import pairs_frame

            blind = pairs_frame(rows) if rows else pairs_frame([])
            self._swapped = dict(
                zip(blind["pair_id"], [r["response_a"] != f for r, f in
                    zip(self.frame.to_dict("records"), blind["response_a"], strict=True)],
                    strict=True)
            )  # fmt: skip
            self._blind = blind
        return self._blind.copy()

    def human(self, store: LabelStore | str | os.PathLike[str]) -> pd.Series:
        """People's win rate of A on :attr:`pairs` (labels in ``store``, unshuffled) beside
        the judge's, with their agreement (share of pairs and Cohen's κ) where both decided."""
        blind = self.pairs
        s = store if isinstance(store, LabelStore) else LabelStore(store)
        try:
            cur = s.current()
        finally:
            if not isinstance(store, LabelStore):
                s.close()
        cur = cur[~cur["annotator"].astype(str).str.startswith("judge:")]
        judge_by_pid = dict(zip(blind["pair_id"], self.frame["judge_label"], strict=True))
        value = {"a": 1.0, "b": 0.0, "tie": 0.5}
        scores, both = [], []
        for rec in cur.to_dict("records"):
            pid, lab = rec["pair_id"], rec["label"]
            if pid not in self._swapped or lab not in value:
                continue
            if self._swapped[pid] and lab in ("a", "b"):
                lab = "b" if lab == "a" else "a"  # back to model A / model B terms
            scores.append(value[lab])
            j = judge_by_pid.get(pid)
            if j in value:
                both.append((lab, j))
        n = len(scores)
        rate = float(np.mean(scores)) if n else math.nan
        lo, hi = wilson(rate, n) if n else (math.nan, math.nan)
        agree = float(np.mean([h == j for h, j in both])) if both else math.nan
        kappa = (
            cohen_kappa([h for h, _ in both], [j for _, j in both]) if len(both) > 1 else math.nan
        )
        return pd.Series(
            {
                "human_n": n,
                "human_win_rate": rate,
                "human_ci_low": lo,
                "human_ci_high": hi,
                "judge_win_rate": self.stats.win_rate,
                "agreement": agree,
                "kappa": kappa,
                "n_both": len(both),
            },
            name="human vs judge",
        )

    def _repr_html_(self) -> str:
        s = self.stats

        def pct(v: float) -> str:
            return "–" if v != v else f"{100 * v:.1f}%"

        return (
            "<div class='prefnb-compare' style='font:13px system-ui,sans-serif'>"
            f"<b>{html.escape(self.model_a)}</b> vs <b>{html.escape(self.model_b)}</b> "
            f"<span style='color:#666'>judged by {html.escape(self.judge)}, both orders</span>"
            "<table style='margin-top:4px'>"
            f"<tr><td>win rate of A</td><td><b>{pct(s.win_rate)}</b> "
            f"(95% CI {pct(s.ci_low)}–{pct(s.ci_high)})</td></tr>"
            f"<tr><td>length-controlled</td><td>{pct(s.lc_win_rate)} "
            f"({pct(s.lc_ci_low)}–{pct(s.lc_ci_high)})</td></tr>"
            f"<tr><td>ties</td><td>{pct(s.tie_rate)}</td></tr>"
            f"<tr><td>position consistency</td><td>{pct(self.position_consistency)}</td></tr>"
            f"<tr><td>n</td><td>{s.n:,} prompts"
            + (f", {len(self.failures):,} failed" if len(self.failures) else "")
            + f"</td></tr><tr><td>cost</td><td>${self.cost_usd:,.4f}</td></tr></table></div>"
        )

    def __repr__(self) -> str:
        s = self.stats
        return (
            f"CompareResult({self.model_a} vs {self.model_b}: win rate {s.win_rate:.3f} "
            f"[{s.ci_low:.3f}, {s.ci_high:.3f}], LC {s.lc_win_rate:.3f}, ties {s.tie_rate:.3f}, "
            f"n={s.n})"
        )


def compare_models(
    prompts: Any,
    model_a: Any,
    model_b: Any,
    judge: str = DEFAULT_JUDGE,
    both_orders: bool = True,
    *,
    store: LabelStore | str | os.PathLike[str] = "labels.sqlite",
    cache: str | os.PathLike[str] = "generations.sqlite",
    backend: Literal["chat", "evaluations"] = "chat",
    engine: Literal["generate", "evaluations"] = "generate",
    rubric: str | None = None,
    temperature: float = 0.7,
    max_tokens: int = 1024,
    seed: int | None = 0,
    mode: Literal["online", "batch"] = "online",
    max_cost: float | None = None,
    ci: Literal["wilson", "bootstrap"] = "wilson",
    client: Any = None,
    blind_seed: int = 0,
    concurrency: int = 32,
    poll: float = 2.0,
    progress: bool = True,
) -> CompareResult:
    """Compare ``model_a`` with ``model_b`` (names or finished fine-tuning Jobs) on ``prompts``.

    Both models answer every prompt once through :func:`prefnb.generate` (``mode`` online or
    batch, answers cached in ``cache``); ``judge`` compares each pair in both orders through
    :func:`prefnb.judge` (``backend`` chat or evaluations, verdicts in ``store``). A pair
    scores 1 when A is preferred, 0 for B, ½ for a tie; orders that disagree make a tie.

    Reported in ``res.summary``: A's win rate with a 95 % CI (``ci="wilson"``: Wilson with
    continuity correction; or ``"bootstrap"``), the tie rate, the length-controlled win rate
    of AlpacaEval 2 (Dubois et al. 2024, arXiv:2404.04475: a logistic regression of the
    verdict on tanh of the normalised length difference, read at zero length difference) with
    a bootstrap CI, the judge's position consistency, n and the cost (generation + judge).
    ``max_cost`` bounds each of the two steps' estimates.

    ``engine="evaluations"`` instead runs one Together Evaluations ``compare`` job with both
    models as model requests: Together generates and judges (two passes); a re-run adopts the
    same job. Its cost is an estimate (characters ÷ 4 × prices) since the job reports none.

    ``res.pairs`` is a blind pair table for :class:`prefnb.Labeler`; ``res.human(store)``
    reports the people's win rate beside the judge's, with their agreement.

    Example:
        >>> res = compare_models(heldout, model_a=dpo_job, model_b=sft_job)  # doctest: +SKIP
        >>> res.summary[["win_rate", "ci_low", "ci_high", "lc_win_rate"]]  # doctest: +SKIP
    """
    name_a, name_b = model_name(model_a), model_name(model_b)
    if name_a == name_b:
        raise ValueError(f"compare_models: model_a and model_b are the same model ({name_a})")
    if engine == "evaluations":
        return _via_evaluations(prompts, name_a, name_b, judge, rubric, temperature,
                                max_tokens, ci, client, poll, progress, blind_seed)  # fmt: skip
    if engine != "generate":
        raise ValueError(
            f"compare_models: engine must be 'generate' or 'evaluations', got {engine!r}"
        )
    gen = generate(
        prompts, models=[model_a, model_b], temperature=temperature, max_tokens=max_tokens,
        seed=seed, mode=mode, cache=cache, max_cost=max_cost, client=client,
        concurrency=concurrency, poll=poll, progress=progress,
    )  # fmt: skip
    failures = gen.attrs.get("failures", pd.DataFrame())
    gen_cost = float(gen.attrs["generation"]["cost_usd"])
    run: JudgeRun | None = None
    if len(gen):
        run = run_judge(
            gen, model=judge, rubric=rubric, store=store, backend=backend,
            both_orders=both_orders, max_cost=max_cost, client=client,
            concurrency=concurrency, poll=poll, progress=progress,
        )  # fmt: skip
        verdicts = run.frame.set_index("pair_id")
        frame = gen[["pair_id", "prompt", "response_a", "response_b"]].copy()
        cols = ["verdict_ab", "verdict_ba", "judge_label", "consistent"]
        frame = frame.join(verdicts[cols], on="pair_id")
    else:
        frame = pd.DataFrame(columns=["pair_id", "prompt", "response_a", "response_b",
                                      "verdict_ab", "verdict_ba", "judge_label",
                                      "consistent"])  # fmt: skip
    stats, consistency = _summarise(frame, both_orders, ci)
    return CompareResult(
        model_a=name_a,
        model_b=name_b,
        judge=judge_annotator(judge).removeprefix("judge:"),
        stats=stats,
        position_consistency=consistency,
        cost_usd=gen_cost + (run.cost_usd if run is not None else 0.0),
        frame=frame,
        judge_run=run,
        failures=failures,
        params={
            "temperature": temperature,
            "max_tokens": max_tokens,
            "seed": seed,
            "backend": backend,
            "mode": mode,
        },
        blind_seed=blind_seed,
    )


def _summarise(frame: pd.DataFrame, both_orders: bool, ci: str) -> tuple[WinStats, float]:
    ba = frame["verdict_ba"] if both_orders else frame["verdict_ab"]
    frame["score"] = pair_scores(list(frame["verdict_ab"]), list(ba))
    frame["length_diff"] = [len(a) - len(b) for a, b in
                            zip(frame["response_a"], frame["response_b"], strict=True)]  # fmt: skip
    judged = frame[frame["score"].notna()]
    stats = win_stats(judged["score"].astype(float), judged["length_diff"].astype(float), ci=ci)
    both = frame[frame["verdict_ab"].notna() & frame["verdict_ba"].notna()]
    consistency = (
        float((both["verdict_ab"] == both["verdict_ba"]).mean()) if len(both) else math.nan
    )
    return stats, consistency


def _via_evaluations(
    prompts: Any, name_a: str, name_b: str, judge: str, rubric: str | None,
    temperature: float, max_tokens: int, ci: str, client: Any, poll: float, progress: bool,
    blind_seed: int,
) -> CompareResult:  # fmt: skip
    from prefnb.compare.evaluations import run_compare_job
    from prefnb.generation.requests import price_of
    from prefnb.generation.run import _prompts
    from prefnb.judge.cost import price_for
    from prefnb.launch.credentials import resolve_client
    from prefnb.launch.progress import ProgressLine

    client = resolve_client(client)
    msgs = _prompts(prompts)
    bar = ProgressLine("Compare", 1, enabled=progress)
    frame, eval_id = run_compare_job(
        msgs, name_a, name_b, judge=judge, rubric=rubric, temperature=temperature,
        max_tokens=max_tokens, client=client, poll=poll,
        progress=lambda text: bar.update(0, text),
    )  # fmt: skip
    bar.close(f"evaluation {eval_id}: completed")
    stats, consistency = _summarise(frame, True, ci)
    judge_price = price_for(judge)
    cost = 0.0
    for rec in frame.to_dict("records"):
        n_prompt = math.ceil(len(json.dumps(rec["prompt"])) / 4)
        n_a, n_b = math.ceil(len(rec["response_a"]) / 4), math.ceil(len(rec["response_b"]) / 4)
        cost += 2 * judge_price.cost_usd(n_prompt + n_a + n_b, 60)
        for name, n_out in ((name_a, n_a), (name_b, n_b)):
            p = price_of(name)
            cost += p.cost_usd(n_prompt, n_out) if p is not None else 0.0
    return CompareResult(
        model_a=name_a, model_b=name_b, judge=judge, stats=stats,
        position_consistency=consistency, cost_usd=cost, frame=frame,
        params={"temperature": temperature, "max_tokens": max_tokens, "engine": "evaluations",
                "eval_id": eval_id},
        blind_seed=blind_seed,
    )  # fmt: skip
