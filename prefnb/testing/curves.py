"""Simulated training curves with DPO's shape, for LocalTogether's ``/metrics`` route.

Not a model of any real run: the curves only have to *behave* like DPO so that plots, monitors
and sweeps have something believable to show offline.

* ``train/loss`` starts at ln 2 ≈ 0.693 (the DPO loss of a policy equal to its reference) and
  falls; lower ``dpo_beta`` drops it faster and drives the log-ratio drift (and so the
  ``approx. KL`` values) higher, the trade-off Together's guide describes for β.
* ``train/reward/accuracy`` starts near 0.5 and rises.
* ``rpo_alpha`` adds an NLL term to the loss (also logged as ``train/nll_loss``) and holds the
  chosen responses nearer the reference; ``simpo_gamma`` adds a margin, so the loss starts at
  softplus(γ) instead of ln 2; length normalization slows the drift.
* SFT jobs log a falling cross-entropy ``train/loss`` only.

Noise is seeded by (job seed, step, split), so a job's curves are the same on every call.

Example:
    >>> p = CurveParams(dpo_beta=0.1)
    >>> row = train_row(p, step=1, total_steps=100, steps_per_epoch=100, seed="ft-sim-x")
    >>> round(row["train/loss"], 1), round(row["train/reward/accuracy"], 1)
    (0.7, 0.5)
    >>> end = train_row(p, step=100, total_steps=100, steps_per_epoch=100, seed="ft-sim-x")
    >>> end["train/loss"] < 0.5 < end["train/reward/accuracy"]
    True
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from statistics import NormalDist

_QUANTILES = [NormalDist().inv_cdf((i + 0.5) / 24) for i in range(24)]


@dataclass(frozen=True)
class CurveParams:
    """The hyperparameters that shape the curves (defaults are Together's)."""

    method: str = "dpo"
    dpo_beta: float = 0.1
    rpo_alpha: float = 0.0
    simpo_gamma: float = 0.0
    normalize_by_length: bool = False
    learning_rate: float = 1e-5
    batch_size: int = 8
    scheduler: str = "cosine"
    min_lr_ratio: float = 0.0
    num_cycles: float = 0.5
    warmup_ratio: float = 0.0


def _softplus(x: float) -> float:
    return math.log1p(math.exp(-abs(x))) + max(x, 0.0)


def _noise(seed: str, step: int, split: str) -> random.Random:
    return random.Random(f"{seed}:{split}:{step}")


def learning_rate(p: CurveParams, step: int, total_steps: int) -> float:
    """Warmup then cosine or linear decay, as Together's ``lr_scheduler`` describes."""
    warmup = int(p.warmup_ratio * total_steps)
    if warmup and step <= warmup:
        return p.learning_rate * step / warmup
    span = max(total_steps - warmup, 1)
    frac = min(max((step - warmup) / span, 0.0), 1.0)
    floor = p.learning_rate * p.min_lr_ratio
    if p.scheduler == "linear":
        return floor + (p.learning_rate - floor) * (1 - frac)
    cos = 0.5 * (1 + math.cos(math.pi * 2 * p.num_cycles * frac))
    return floor + (p.learning_rate - floor) * cos


def _drift(p: CurveParams, step: int, total_steps: int) -> float:
    """Summed log-ratio gap (nats) the policy has opened between chosen and rejected."""
    beta = max(p.dpo_beta, 1e-3)
    lr_scale = min(math.sqrt(p.learning_rate / 1e-5), 4.0)
    rate = 3.0 * lr_scale * (0.1 / beta) ** 0.5 * (0.6 if p.normalize_by_length else 1.0)
    ceiling = 10.0 * (0.1 / beta) ** 1.3
    # Step 1 is logged from the first batch, before any update: the policy is the reference.
    done = (step - 1) / max(total_steps - 1, 1)
    return float(ceiling) * (1 - math.exp(-rate * done))


def _margin_stats(margin: float, spread: float, offset: float = 0.0) -> tuple[float, float]:
    """Mean DPO loss and reward accuracy over a batch whose margins are N(margin, spread²)."""
    values = [margin + spread * q for q in _QUANTILES]
    loss = sum(_softplus(-(v - offset)) for v in values) / len(values)
    accuracy = NormalDist().cdf(margin / spread) if spread > 0 else 0.5
    return loss, accuracy


def _dpo(
    p: CurveParams, step: int, total_steps: int, rng: random.Random, gap: float
) -> dict[str, float]:
    drift = _drift(p, step, total_steps) * gap
    margin = p.dpo_beta * drift
    if p.simpo_gamma > 0:
        # SimPO's reward is the length-normalized log-likelihood, so it keeps climbing past γ.
        margin += p.simpo_gamma * 0.9 * (drift / max(_drift(p, total_steps, total_steps), 1e-9))
    # Margins differ across examples once training starts; at step 1 they are all 0.
    spread = (0.3 + 0.9 * margin) * min(1.0, 20 * margin)
    loss, accuracy = _margin_stats(margin, spread, offset=p.simpo_gamma)
    # Before the first update every log-ratio is 0, so the first row is exact (loss ln 2,
    # accuracy 0.5); batch-to-batch noise grows in as the margins spread.
    settle = min(1.0, 4 * (step - 1) / max(total_steps - 1, 1))
    jitter = (8 / max(p.batch_size, 1)) ** 0.5 * settle
    row = {
        "loss": loss * (1 + 0.04 * jitter * rng.gauss(0, 1)),
        "reward/accuracy": min(max(accuracy + 0.04 * jitter * rng.gauss(0, 1), 0.0), 1.0),
        "approx. KL/chosen": max(
            7.0 * drift / (1 + p.rpo_alpha) * (1 + 0.05 * rng.gauss(0, 1)), 0.0
        ),
        "approx. KL/rejected": max(12.0 * drift * (1 + 0.05 * rng.gauss(0, 1)), 0.0),
    }
    if p.rpo_alpha > 0:
        progress = 1 - math.exp(-2.0 * step / max(total_steps, 1))
        nll = (1.25 - 0.35 * progress) * (1 + 0.03 * rng.gauss(0, 1))
        row["nll_loss"] = nll
        row["loss"] += p.rpo_alpha * nll
    return row


def _sft(p: CurveParams, step: int, total_steps: int, rng: random.Random) -> dict[str, float]:
    lr_scale = min(math.sqrt(p.learning_rate / 1e-5), 4.0)
    loss = 1.1 + 0.8 * math.exp(-3.0 * lr_scale * step / max(total_steps, 1))
    return {"loss": loss * (1 + 0.03 * rng.gauss(0, 1))}


def train_row(
    p: CurveParams, *, step: int, total_steps: int, steps_per_epoch: int, seed: str
) -> dict[str, float]:
    """Metrics logged after training step ``step`` (1-based), W&B-style keys."""
    rng = _noise(seed, step, "train")
    values = (
        _sft(p, step, total_steps, rng)
        if p.method == "sft"
        else _dpo(p, step, total_steps, rng, 1.0)
    )
    row = {f"train/{k}": v for k, v in values.items()}
    row["train/learning_rate"] = learning_rate(p, step, total_steps)
    row["train/epoch"] = step / max(steps_per_epoch, 1)
    row["train/global_step"] = float(step)
    return row


def eval_row(p: CurveParams, *, step: int, total_steps: int, seed: str) -> dict[str, float]:
    """Metrics of the evaluation run at ``step``: same shape, a small generalization gap."""
    rng = _noise(seed, step, "eval")
    values = (
        _sft(p, step, total_steps, rng)
        if p.method == "sft"
        else _dpo(p, step, total_steps, rng, 0.85)
    )
    row = {f"eval/{k}": v for k, v in values.items()}
    row["train/global_step"] = float(step)
    return row
