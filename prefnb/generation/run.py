"""``prefnb.generate()``: candidate answers for prompts, as a pair table, cached and resumable.

Example (against LocalTogether, offline):
    >>> import tempfile, pathlib
    >>> from prefnb.testing import LocalTogether
    >>> cache = pathlib.Path(tempfile.mkdtemp()) / "gen.sqlite"
    >>> with LocalTogether() as api:
    ...     cands = generate(["Explain DPO."], model="openai/gpt-oss-20b", n=2, cache=cache,
    ...                      client=api.client(), progress=False)
    >>> cands[["model_a", "model_b", "source"]].iloc[0].tolist()
    ['openai/gpt-oss-20b', 'openai/gpt-oss-20b', 'generated']
"""

from __future__ import annotations

import itertools
import os
import time
import warnings
from collections.abc import Sequence
from typing import Any, Literal

import pandas as pd

from prefnb.generation.batch import BATCH_DISCOUNT, run_batch
from prefnb.generation.cache import GenerationCache
from prefnb.generation.online import GenerateError, run_online
from prefnb.generation.requests import (
    CostError,
    GenCost,
    build_tasks,
    estimate,
    model_name,
    price_of,
)
from prefnb.launch.progress import ProgressLine
from prefnb.pairs import normalize_prompt, pairs_frame
from prefnb.testing.serverless_models import ServerlessModel

__all__ = ["CostError", "GenerateError", "generate"]


def _prompts(prompts: Any) -> list[list[dict[str, Any]]]:
    if isinstance(prompts, pd.DataFrame):
        if "prompt" not in prompts.columns:
            raise ValueError("generate: a DataFrame of prompts needs a 'prompt' column")
        prompts = prompts["prompt"]
    if isinstance(prompts, str):
        prompts = [prompts]
    out = []
    for i, p in enumerate(list(prompts)):
        try:
            out.append([dict(m) for m in normalize_prompt(p)])
        except ValueError as exc:
            raise ValueError(f"generate: prompt {i}: {exc}") from None
    if not out:
        raise ValueError("generate: no prompts")
    return out


def _base_model(model: Any) -> str | None:
    info = getattr(model, "_info", None)
    base = info.get("model") if isinstance(info, dict) else None
    return str(base) if base else None


def generate(
    prompts: Any,
    model: Any = None,
    n: int = 2,
    temperature: float = 0.8,
    max_tokens: int = 1024,
    seed: int | None = 0,
    mode: Literal["online", "batch"] = "online",
    cache: str | os.PathLike[str] | GenerationCache = "generations.sqlite",
    max_cost: float | None = None,
    client: Any = None,
    *,
    models: Sequence[Any] | None = None,
    pairs: Literal["all", "best_vs_worst", "none"] = "all",
    judge: str | None = None,
    judge_store: Any = None,
    concurrency: int = 32,
    max_attempts: int = 6,
    price: dict[str, tuple[float, float]] | None = None,
    poll: float = 2.0,
    progress: bool = True,
) -> pd.DataFrame:
    """Sample ``n`` answers per prompt from ``model`` (or one from each of ``models``) and
    return them as a pair table with ``source="generated"``.

    ``prompts``: a list/Series of strings or message lists, or a pair table (its ``prompt``
    column). ``model``/``models`` are model names or finished fine-tuning Jobs. Sample ``k``
    of a prompt is sent with ``seed + k`` (no seed when ``seed=None``), so the same seed gives
    the same candidates online and in batch.

    ``mode="online"`` calls chat completions with ``concurrency`` requests in flight and
    back-off on 429/5xx; ``mode="batch"`` runs one Together batch per model (50 % cheaper).
    The cost (upper bound: outputs at ``max_tokens``) is estimated before anything is sent and
    :class:`CostError` is raised above ``max_cost``. Every finished completion is committed to
    the SQLite ``cache`` at once; a re-run sends only what is missing. Requests that fail are
    reported (a warning, and ``cands.attrs["failures"]``), never dropped silently.

    With ``n > 2``, ``pairs="all"`` gives every pair of a prompt's answers;
    ``pairs="best_vs_worst"`` judges all of them with ``judge`` (a serverless judge model,
    verdicts in ``judge_store``) and keeps the answer with the most wins against the one with
    the fewest. ``pairs="none"`` returns one row per answer instead of pairs.

    ``cands.attrs["generation"]`` holds the estimate, what was sent, cached, failed and paid,
    the requests and retries, and ``maybe_duplicated``: retries after a reply was lost in
    transit, each of which Together may have billed twice.

    Example:
        >>> cands = generate(df, model=sft_job, n=4, pairs="all", max_cost=2.0)  # doctest: +SKIP
        >>> ab = generate(prompts, models=["model-x", "model-y"])               # doctest: +SKIP
    """
    if mode not in ("online", "batch"):
        raise ValueError(f"generate: mode must be 'online' or 'batch', got {mode!r}")
    if (model is None) == (models is None):
        raise ValueError("generate: pass model=... (n answers each) or models=[...] (one each)")
    names = [model_name(m) for m in (models if models is not None else [model])]
    if models is not None:
        n = 1
        if len(names) < 2:
            raise ValueError("generate: models=[...] needs at least two models to pair")
    if n < 1 or (models is None and n < 2 and pairs != "none"):
        raise ValueError(f"generate: n must be ≥ 2 to make pairs (or pairs='none'), got {n}")
    if pairs == "best_vs_worst" and not judge:
        raise ValueError("generate: pairs='best_vs_worst' needs judge='<serverless model>'")
    if not 0 <= temperature <= 2:
        raise ValueError(f"generate: temperature must be in [0, 2], got {temperature!r}")
    msgs = _prompts(prompts)
    tasks = build_tasks(msgs, names, n=n, temperature=temperature, max_tokens=max_tokens,
                        seed=seed)  # fmt: skip
    bases = {model_name(m): _base_model(m) for m in (models or [model])}
    prices: dict[str, ServerlessModel | None] = {
        name: (
            ServerlessModel(name, *price[name])
            if price and name in price
            else price_of(name, bases.get(name))
        )
        for name in names
    }
    store = cache if isinstance(cache, GenerationCache) else GenerationCache(cache)
    try:
        cached = store.get([t.key for t in tasks])
        todo = [t for t in tasks if t.key not in cached]
        cost = estimate(todo, prices, BATCH_DISCOUNT if mode == "batch" else 1.0)
        if max_cost is not None and (cost.usd is None or cost.usd > max_cost):
            why = ("cannot be estimated: pass price={model: (in, out)} USD per 1M tokens"
                   if cost.usd is None else f"is above max_cost=${max_cost:,.4f}")  # fmt: skip
            raise CostError(f"generate: the cost of {cost} {why}; nothing was sent.")
        report: dict[str, Any] = {"estimate": cost, "cached": len(tasks) - len(todo),
                                  "sent": 0, "requests": 0, "retries": 0,
                                  "maybe_duplicated": 0, "mode": mode,
                                  "batch_ids": [], "seconds": 0.0}  # fmt: skip
        failures: dict[str, str] = {}
        t0 = time.monotonic()
        if todo:
            from prefnb.launch.credentials import resolve_client

            client = resolve_client(client)  # TOGETHER_API_KEY / TOGETHER_BASE_URL when None
            bar = ProgressLine("Generate", len(todo) if mode == "online" else 100,
                               enabled=progress)  # fmt: skip
            if mode == "online":
                stats = run_online(
                    todo, client=client, prices=prices, concurrency=concurrency,
                    max_attempts=max_attempts, commit=store.put,
                    progress=lambda k: bar.update(k, f"{k:,} / {len(todo):,} requests"),
                )  # fmt: skip
                failures = stats.failures
                report.update(requests=stats.requests, retries=stats.retries,
                              maybe_duplicated=stats.maybe_duplicated)  # fmt: skip
            else:
                failures, batch_ids = run_batch(
                    todo, client=client, cache=store, prices=prices, poll=poll,
                    progress=lambda pct, text: bar.update(int(pct), text),
                )  # fmt: skip
                report["batch_ids"] = batch_ids
            bar.close(f"{len(todo) - len(failures):,} answers, {len(failures):,} failed",
                      ok=not failures)  # fmt: skip
        report["seconds"] = time.monotonic() - t0
        done = store.get([t.key for t in tasks])
    finally:
        if not isinstance(cache, GenerationCache):
            store.close()
    report["sent"] = len(todo) - len(failures)
    report["cost_usd"] = float(sum(done[t.key]["cost_usd"] or 0.0 for t in todo if t.key in done))
    fail_rows = [
        {
            "prompt_index": t.prompt_index,
            "model": t.model,
            "sample": t.sample,
            "error": failures.get(t.key, "no answer (interrupted)"),
        }
        for t in tasks
        if t.key not in done
    ]
    failed = pd.DataFrame(fail_rows, columns=["prompt_index", "model", "sample", "error"])
    if len(failed):
        warnings.warn(
            f"generate: {len(failed):,} of {len(tasks):,} requests failed (first: prompt "
            f"{failed.prompt_index.iloc[0]}, {failed.model.iloc[0]}: {failed.error.iloc[0]}); "
            "see cands.attrs['failures']; a re-run retries only these",
            stacklevel=2,
        )
    frame = _pairs(msgs, tasks, done, pairs, temperature, max_tokens, judge, judge_store, client)
    frame.attrs["generation"] = report
    frame.attrs["failures"] = failed
    return frame


def _pairs(
    msgs: list[list[dict[str, Any]]],
    tasks: list[Any],
    done: dict[str, dict[str, Any]],
    pairs: str,
    temperature: float,
    max_tokens: int,
    judge: str | None,
    judge_store: Any,
    client: Any,
) -> pd.DataFrame:
    by_prompt: dict[int, list[Any]] = {}
    for t in tasks:
        if t.key in done:
            by_prompt.setdefault(t.prompt_index, []).append(t)
    if pairs == "none":
        rows = [
            {
                "prompt": msgs[i],
                "prompt_index": i,
                "model": t.model,
                "sample": t.sample,
                "seed": t.body.get("seed"),
                "response": done[t.key]["text"],
                "finish_reason": done[t.key]["finish_reason"],
                "source": "generated",
            }
            for i, ts in sorted(by_prompt.items())
            for t in ts
        ]
        return pd.DataFrame(rows)
    records = []
    for i, ts in sorted(by_prompt.items()):
        for a, b in itertools.combinations(ts, 2):
            records.append(
                {
                    "prompt": msgs[i],
                    "response_a": done[a.key]["text"],
                    "response_b": done[b.key]["text"],
                    "model_a": a.model,
                    "model_b": b.model,
                    "source": "generated",
                    "prompt_index": i,
                    "sample_a": a.sample,
                    "sample_b": b.sample,
                    "seed_a": a.body.get("seed"),
                    "seed_b": b.body.get("seed"),
                    "temperature": temperature,
                    "max_tokens": max_tokens,
                }
            )
    if not records:
        return pairs_frame([]).assign(model_a=[], model_b=[], source=[])
    frame = pairs_frame(records)
    if pairs == "best_vs_worst":
        frame = _best_vs_worst(frame, judge or "", judge_store, client)
    return frame


def _best_vs_worst(frame: pd.DataFrame, judge_model: str, store: Any, client: Any) -> pd.DataFrame:
    from prefnb.judge.run import judge as run_judge

    run = run_judge(frame, model=judge_model, store=store or "labels.sqlite", backend="chat",
                    client=client, progress=False)  # fmt: skip
    labels = dict(zip(run.frame["pair_id"], run.frame["judge_label"], strict=True))
    keep = []
    for _, group in frame.groupby("prompt_index", sort=True):
        wins: dict[Any, float] = {}
        for row in group.itertuples():
            wins.setdefault(row.sample_a, 0.0)
            wins.setdefault(row.sample_b, 0.0)
            lab = labels.get(row.pair_id)
            if lab == "a":
                wins[row.sample_a] += 1
            elif lab == "b":
                wins[row.sample_b] += 1
            else:
                wins[row.sample_a] += 0.5
                wins[row.sample_b] += 0.5
        best = max(wins, key=lambda s: (wins[s], -s))
        worst = min(wins, key=lambda s: (wins[s], s))
        for row in group.itertuples():
            if {row.sample_a, row.sample_b} == {best, worst}:
                keep.append(row.Index)
    out = frame.loc[keep].reset_index(drop=True)
    out.attrs = {}
    return out


__all__ += ["GenCost"]
