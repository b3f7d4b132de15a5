"""``prefnb.judge()``: judge pairs with an LLM through Together, in both orders, cached.

Example (against LocalTogether, offline):
    >>> import prefnb, tempfile, pathlib
    >>> from prefnb.testing import LocalTogether
    >>> df = prefnb.pairs_frame([{"prompt": "2+2?", "response_a": "4", "response_b": "5"}])
    >>> store = pathlib.Path(tempfile.mkdtemp()) / "labels.sqlite"
    >>> with LocalTogether() as api:
    ...     run = judge(df, model="meta-llama/Llama-3.3-70B-Instruct-Turbo", store=store,
    ...                 backend="chat", client=api.client(), progress=False)
    >>> list(run.frame.columns)[:5]
    ['pair_id', 'judge', 'verdict_ab', 'verdict_ba', 'judge_label']
"""

from __future__ import annotations

import html
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

from prefnb.judge.chat_backend import ChatStats, JudgeError, run_chat
from prefnb.judge.cost import CostEstimate, JudgeCostError, Tokenizer, count_tokens, price_for
from prefnb.judge.eval_backend import run_evaluation
from prefnb.judge.prompt import (
    DEFAULT_RUBRIC,
    eval_system_template,
    judge_messages,
    rubric_hash,
)
from prefnb.judge.tasks import Pass, unique_pairs
from prefnb.judge.verdict import combine_orders
from prefnb.labels.store import LabelStore
from prefnb.launch.progress import ProgressLine
from prefnb.pairs import check_pairs


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): v for k, v in r.items()} for r in frame.to_dict("records")]


__all__ = ["FRAME_COLUMNS", "JudgeRun", "judge", "judge_annotator"]

#: Columns of :attr:`JudgeRun.frame`, one row per row of the judged DataFrame.
FRAME_COLUMNS = (
    "pair_id",
    "judge",
    "verdict_ab",
    "verdict_ba",
    "judge_label",
    "consistent",
    "rationale",
    "input_tokens",
    "output_tokens",
    "cost_usd",
    "rationale_ba",
    "error",
    "cached",
)


def judge_annotator(model: str) -> str:
    """The label-store annotator of a judge model: ``judge:<model>``."""
    return f"judge:{model}"


@dataclass
class JudgeRun:
    """What a :func:`judge` call did. ``frame`` has one row per row of the judged frame.

    ``estimate`` is the cost of what had to be sent (computed before sending);
    ``cost_usd`` what this run's requests cost (usage × price); ``cached`` how many passes
    came from the store instead of Together.
    """

    frame: pd.DataFrame
    model: str
    judge: str
    rubric: str
    rubric_hash: str
    backend: str
    estimate: CostEstimate
    cost_usd: float = 0.0
    passes_sent: int = 0
    cached: int = 0
    requests: int = 0
    retries: int = 0
    maybe_duplicated: int = 0
    seconds: float = 0.0
    eval_id: str | None = None
    eval_adopted: bool = False
    errors: dict[str, str] = field(default_factory=dict)
    _thread: threading.Thread | None = field(default=None, repr=False)
    _failure: BaseException | None = field(default=None, repr=False)

    def _start(self, body: Callable[[], None]) -> None:
        def target() -> None:
            try:
                body()
            except BaseException as exc:  # handed to wait(), which re-raises it
                self._failure = exc

        self._thread = threading.Thread(target=target, name="prefnb-judge", daemon=True)
        self._thread.start()

    @property
    def done(self) -> bool:
        """True once every verdict is in (always, for a run made with ``wait=True``)."""
        return self._thread is None or not self._thread.is_alive()

    def wait(self, timeout: float | None = None) -> JudgeRun:
        """Block until a ``wait=False`` run finishes; re-raise its error, if any."""
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                raise TimeoutError(f"judge run still going after {timeout} s")
        if self._failure is not None:
            raise self._failure
        return self

    @property
    def n_consistent(self) -> int:
        return int((self.frame["consistent"] == True).sum())  # noqa: E712

    def summary(self) -> str:
        if not self.done:
            return f"{self.judge} via {self.backend}: running (estimated {self.estimate})"
        n = len(self.frame)
        where = f" (evaluation {self.eval_id})" if self.eval_id else ""
        return (
            f"{self.judge} judged {n:,} pairs via {self.backend}{where}: "
            f"{self.n_consistent:,} consistent in both orders; "
            f"{self.passes_sent:,} passes sent, {self.cached:,} from the store; "
            f"estimated ${self.estimate.usd:,.4f}, paid ${self.cost_usd:,.4f}; "
            f"{self.seconds:,.1f} s"
        )

    def __repr__(self) -> str:
        return f"JudgeRun({self.summary()})"

    def _repr_html_(self) -> str:
        if not self.done:
            return f"<div class='prefnb-judge-run'>{html.escape(self.summary())}</div>"
        f = self.frame
        rows = [
            ("judge", self.judge),
            ("backend", self.backend + (f" (evaluation {self.eval_id})" if self.eval_id else "")),
            ("pairs", f"{len(f):,}"),
            ("consistent in both orders", f"{self.n_consistent:,}"),
            ("failed or missing", f"{int(f['judge_label'].isna().sum()):,}"),
            ("passes sent / from the store", f"{self.passes_sent:,} / {self.cached:,}"),
            (
                "estimated before sending",
                f"${self.estimate.usd:,.4f} ({self.estimate.price_source})",
            ),
            ("paid", f"${self.cost_usd:,.4f}"),
            ("seconds", f"{self.seconds:,.1f}"),
        ]
        body = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
            for k, v in rows
        )
        return f"<table class='prefnb-judge-run'>{body}</table>"


def _frame(
    df: pd.DataFrame,
    keys: list[str],
    stored: pd.DataFrame,
    annotator: str,
    both_orders: bool,
    before: set[tuple[str, str]],
    errors: dict[tuple[str, str], str],
) -> pd.DataFrame:
    by: dict[tuple[str, str], dict[str, Any]] = {}
    for rec in _records(stored):
        by[(rec["content_key"], rec["shown"])] = rec
    rows = []
    for pid, key in zip(df["pair_id"], keys, strict=True):
        ab, ba = by.get((key, "ab")), by.get((key, "ba"))
        v_ab = ab["verdict"] if ab else None
        v_ba = ba["verdict"] if ba else None
        label, consistent = combine_orders(v_ab, v_ba, both_orders=both_orders)
        passes = [r for r in (ab, ba) if r is not None]
        errs = [r["error"] for r in passes if r.get("error")]
        errs += [errors[(key, s)] for s in ("ab", "ba") if (key, s) in errors]
        rows.append(
            {
                "pair_id": pid,
                "judge": annotator,
                "verdict_ab": v_ab,
                "verdict_ba": v_ba,
                "judge_label": label,
                "consistent": consistent,
                "rationale": ab["rationale"] if ab else None,
                "input_tokens": sum(int(r["input_tokens"] or 0) for r in passes),
                "output_tokens": sum(int(r["output_tokens"] or 0) for r in passes),
                "cost_usd": float(sum(float(r["cost_usd"] or 0.0) for r in passes)),
                "rationale_ba": ba["rationale"] if ba else None,
                "error": "; ".join(errs) if errs else None,
                "cached": bool(passes) and all((key, r["shown"]) in before for r in passes),
            }
        )
    return pd.DataFrame(rows, columns=list(FRAME_COLUMNS))


def judge(
    df: pd.DataFrame,
    model: str,
    rubric: str | None = None,
    store: LabelStore | str | os.PathLike[str] = "labels.sqlite",
    backend: Literal["evaluations", "chat"] = "evaluations",
    both_orders: bool = True,
    max_cost: float | None = None,
    client: Any = None,
    wait: bool = True,
    *,
    concurrency: int = 32,
    tokenizer: Tokenizer | None = None,
    price: tuple[float, float] | None = None,
    max_attempts: int = 6,
    poll: float = 2.0,
    progress: bool = True,
) -> JudgeRun:
    """Judge every pair of ``df`` with ``model`` (a Together serverless model).

    Each pair is judged in both orders (``response_a`` first, then ``response_b`` first)
    unless ``both_orders=False``; a pair is ``consistent`` when both orders pick the same
    response. Verdicts are stored in the label ``store`` as annotator ``judge:<model>`` with
    the rubric's hash, and a verdict already there is never requested again (the cache key is
    the pair's content, the model, the rubric and the order).

    ``backend="evaluations"`` runs one Together compare job (two-pass position-bias
    correction kept); ``backend="chat"`` calls chat completions with ``concurrency``
    requests in flight. The cost of what must be sent is estimated first (tokens =
    characters ÷ 4 unless ``tokenizer`` is given, × the judge's price, × passes) and
    :class:`~prefnb.judge.cost.JudgeCostError` is raised, before any request, when it is
    above ``max_cost`` (USD). ``wait=False`` returns at once (after the estimate) and
    judges in a background thread: ``run.done``, ``run.wait()``; verdicts are committed to
    the store as they arrive either way.

    Example:
        >>> run = judge(df, "meta-llama/Llama-3.3-70B-Instruct-Turbo",  # doctest: +SKIP
        ...             store="labels.sqlite", max_cost=1.0)
        >>> run.frame.judge_label.value_counts()  # doctest: +SKIP
    """
    check_pairs(df)
    if backend not in ("evaluations", "chat"):
        raise ValueError(f"judge: backend must be 'evaluations' or 'chat', got {backend!r}")
    if not isinstance(model, str) or not model:
        raise ValueError(f"judge: model must be a Together model name, got {model!r}")
    if concurrency < 1:
        raise ValueError(f"judge: concurrency must be ≥ 1, got {concurrency!r}")
    rubric = DEFAULT_RUBRIC if rubric is None else rubric
    if not isinstance(rubric, str) or not rubric.strip():
        raise ValueError("judge: rubric must be a non-empty string (or None for the default)")
    cost_price = price_for(model, price)
    annotator = judge_annotator(model)
    rhash = rubric_hash(rubric)
    uniques, keys = unique_pairs(df)

    own = not isinstance(store, LabelStore)
    opened = LabelStore(store) if not isinstance(store, LabelStore) else store
    handed_off = False  # wait=False: the background thread closes a store judge() opened
    try:
        stored = opened.judge_verdicts(annotator, rhash)
        before = set(zip(stored["content_key"], stored["shown"], strict=True))
        orders = ("ab", "ba") if both_orders else ("ab",)
        todo = [Pass(u, s) for u in uniques for s in orders if (u.content_key, s) not in before]
        prebuilt: dict[Pass, list[dict[str, str]]] = {}
        estimate = _estimate(todo, rubric, backend, cost_price, tokenizer, prebuilt)
        if max_cost is not None and estimate.usd > max_cost:
            raise JudgeCostError(
                f"judge: the estimated cost {estimate} is above max_cost=${max_cost:,.4f}; "
                "nothing was sent. Raise max_cost, judge fewer pairs, or pick a cheaper model."
            )
        run = JudgeRun(
            frame=pd.DataFrame(columns=list(FRAME_COLUMNS)),
            model=model,
            judge=annotator,
            rubric=rubric,
            rubric_hash=rhash,
            backend=backend,
            estimate=estimate,
            cached=len(before & {(u.content_key, s) for u in uniques for s in orders}),
        )

        def execute() -> None:
            _send(run, todo, prebuilt, df, keys, before, opened, client, rubric, cost_price,
                  both_orders, concurrency, max_attempts, tokenizer, poll, progress)  # fmt: skip

        if wait:
            execute()
            return run

        def background() -> None:
            try:
                execute()
            finally:
                if own:
                    opened.close()

        run._start(background)
        handed_off = True
        return run
    finally:
        if own and not handed_off:
            opened.close()


def _send(
    run: JudgeRun,
    todo: list[Pass],
    prebuilt: dict[Pass, list[dict[str, str]]],
    df: pd.DataFrame,
    keys: list[str],
    before: set[tuple[str, str]],
    opened: LabelStore,
    client: Any,
    rubric: str,
    cost_price: Any,
    both_orders: bool,
    concurrency: int,
    max_attempts: int,
    tokenizer: Tokenizer | None,
    poll: float,
    progress: bool,
) -> None:
    model, annotator, rhash, backend = run.model, run.judge, run.rubric_hash, run.backend
    unpaid: dict[tuple[str, str], str] = {}
    t0 = time.monotonic()
    if todo:
        if client is None:
            import together

            client = together.Together()
        sent: list[float] = []

        def flush(rows: list[dict[str, Any]]) -> None:
            opened.record_judge_verdicts(rows)
            sent.extend(float(r["cost_usd"] or 0.0) for r in rows)

        if backend == "chat":
            bar = ProgressLine("Judge", len(todo), enabled=progress)
            stats: ChatStats = run_chat(
                todo, client=client, model=model, rubric=rubric, annotator=annotator,
                rubric_hash=rhash, price=cost_price, concurrency=concurrency,
                max_attempts=max_attempts, flush=flush, prebuilt=prebuilt,
                progress=lambda n: bar.update(n, f"{n:,} / {len(todo):,} passes"),
            )  # fmt: skip
            bar.close(f"{len(todo):,} passes answered")
            run.requests, run.retries = stats.requests, stats.retries
            run.maybe_duplicated = stats.maybe_duplicated
            unpaid = stats.unpaid_errors
        else:
            todo_pairs = list({p.pair.content_key: p.pair for p in todo}.values())
            bar = ProgressLine("Judge", 1, enabled=progress)

            def created(eval_id: str, adopted: bool) -> None:
                run.eval_id, run.eval_adopted = eval_id, adopted

            rows = run_evaluation(
                todo_pairs, client=client, model=model, rubric=rubric,
                annotator=annotator, rubric_hash=rhash, price=cost_price,
                both_orders=both_orders, tokenizer=tokenizer, poll=poll,
                progress=lambda status: bar.update(0, f"evaluation {run.eval_id}: {status}"),
                on_created=created,
            )  # fmt: skip
            bar.close(f"evaluation {run.eval_id}: completed")
            wanted = {(p.pair.content_key, p.shown) for p in todo}
            flush([r for r in rows if (r["content_key"], r["shown"]) in wanted])
        run.passes_sent = len(sent)
        run.cost_usd = float(sum(sent))
    run.seconds = time.monotonic() - t0
    stored = opened.judge_verdicts(annotator, rhash)
    run.frame = _frame(df, keys, stored, annotator, both_orders, before, unpaid)
    run.errors = {f"{k[0]}:{k[1]}": v for k, v in unpaid.items()}


def _estimate(
    todo: list[Pass],
    rubric: str,
    backend: str,
    price: Any,
    tokenizer: Callable[[str], int] | None,
    prebuilt: dict[Pass, list[dict[str, str]]],
) -> CostEstimate:
    """The cost of ``todo``; for the chat backend, the messages it priced go to ``prebuilt``
    so they are not built twice."""
    items: list[tuple[int, int]] = []
    if backend == "chat":
        for p in todo:
            msgs = judge_messages(rubric, p.pair.prompt, p.first, p.second)
            prebuilt[p] = msgs
            items.append((sum(count_tokens(m["content"], tokenizer) for m in msgs), 1))
    else:
        template = eval_system_template(rubric)
        for p in todo:
            text = template + p.pair.prompt + p.pair.response_a + p.pair.response_b
            items.append((count_tokens(text, tokenizer), 1))
    return CostEstimate.of(items, price, passes=1)


__all__ += ["JudgeCostError", "JudgeError"]
