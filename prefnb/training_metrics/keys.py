"""Canonical metric names from raw logger keys, matched by pattern rather than a fixed list.

Together logs W&B-style keys (``train/loss``, ``eval/reward/accuracy``,
``train/approx. KL/chosen``), TRL's ``trainer_state.json`` uses ``rewards/accuracies`` and an
``eval_`` prefix, W&B exports add ``_step`` and ``_timestamp``. :func:`classify` splits a raw key
into its split (train/eval), a canonical metric name, and its role (a value, the step axis, or
the log time). Keys no rule knows keep their raw key as the metric name, so nothing is dropped.

Example:
    >>> classify("train/approx. KL/chosen")
    KeyInfo(raw_key='train/approx. KL/chosen', split='train', metric='kl_chosen', role='value')
    >>> classify("eval_rewards/accuracies").metric, classify("eval_rewards/accuracies").split
    ('accuracy', 'eval')
    >>> classify("train/global_step").role
    'step'
    >>> classify("train/my_new_thing").metric
    'train/my_new_thing'
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Final, Literal, NamedTuple

__all__ = ["CANONICAL", "KeyInfo", "Role", "Split", "classify", "panel_metrics"]

Split = Literal["train", "eval"]
Role = Literal["value", "step", "time"]

#: Canonical names with a short human description, used for panel titles and axis labels.
CANONICAL: Final[dict[str, str]] = {
    "loss": "Loss",
    "accuracy": "Reward accuracy",
    "kl_chosen": "Approx. KL (chosen)",
    "kl_rejected": "Approx. KL (rejected)",
    "kl": "Approx. KL",
    "margin": "Reward margin",
    "reward_chosen": "Reward (chosen)",
    "reward_rejected": "Reward (rejected)",
    "logp_chosen": "Log-prob (chosen)",
    "logp_rejected": "Log-prob (rejected)",
    "logits_chosen": "Mean logit (chosen)",
    "logits_rejected": "Mean logit (rejected)",
    "nll_loss": "NLL loss",
    "learning_rate": "Learning rate",
    "grad_norm": "Gradient norm",
    "epoch": "Epoch",
}

#: A panel name expands to these canonical metrics (``kl`` plots chosen and rejected together).
_PANELS: Final[dict[str, tuple[str, ...]]] = {
    "kl": ("kl_chosen", "kl_rejected", "kl"),
    "reward": ("reward_chosen", "reward_rejected"),
    "rewards": ("reward_chosen", "reward_rejected"),
    "logp": ("logp_chosen", "logp_rejected"),
    "logps": ("logp_chosen", "logp_rejected"),
    "logits": ("logits_chosen", "logits_rejected"),
}

_EVAL_PREFIX = re.compile(r"^(eval|evaluation|validation|valid|val|test)(/|_)", re.IGNORECASE)
_TRAIN_PREFIX = re.compile(r"^train/", re.IGNORECASE)
_TOKEN = re.compile(r"[a-z0-9]+")
_STEP_NAMES: Final[frozenset[str]] = frozenset(
    {"global_step", "_step", "step", "trainer/global_step"}
)
_TIME_NAMES: Final[frozenset[str]] = frozenset({"timestamp", "_timestamp", "logged_at", "time"})


class KeyInfo(NamedTuple):
    """What a raw key means: its split, canonical metric name and role."""

    raw_key: str
    split: Split
    metric: str
    role: Role


@lru_cache(maxsize=4096)
def classify(raw_key: str) -> KeyInfo:
    """Classify one raw key (see the module docstring). Cached: keys repeat on every row."""
    key = raw_key.strip()
    split: Split = "train"
    rest = key
    m = _EVAL_PREFIX.match(key)
    if m:
        split, rest = "eval", key[m.end() :]
    else:
        t = _TRAIN_PREFIX.match(key)
        if t:
            rest = key[t.end() :]
    low = rest.lower()
    if low in _STEP_NAMES or key.lower() in _STEP_NAMES:
        return KeyInfo(raw_key, split, "step", "step")
    last = low.rsplit("/", 1)[-1]
    if low in _TIME_NAMES or last in {"timestamp", "_timestamp"}:
        return KeyInfo(raw_key, split, "logged_at", "time")
    metric = _canonical(tuple(_TOKEN.findall(low)))
    return KeyInfo(raw_key, split, metric if metric is not None else raw_key, "value")


def _canonical(tokens: tuple[str, ...]) -> str | None:
    if not tokens:
        return None
    toks = set(tokens)
    side = "chosen" if "chosen" in toks else "rejected" if "rejected" in toks else None
    if any(t.startswith("accurac") for t in tokens):
        return "accuracy"
    if "kl" in toks:
        return f"kl_{side}" if side else "kl"
    if any(t.startswith("margin") for t in tokens):
        return "margin"
    if side and tokens[0] in {"reward", "rewards"}:
        return f"reward_{side}"
    if side and tokens[0] in {"logp", "logps", "logprob", "logprobs"}:
        return f"logp_{side}"
    if side and tokens[0] == "logits":
        return f"logits_{side}"
    if "nll" in toks and tokens[-1] == "loss":
        return "nll_loss"
    if tokens == ("loss",) or tokens == ("dpo", "loss"):
        return "loss"
    if tokens in {("learning", "rate"), ("lr",)}:
        return "learning_rate"
    if tokens == ("grad", "norm"):
        return "grad_norm"
    if tokens == ("epoch",):
        return "epoch"
    return None


def panel_metrics(name: str) -> tuple[str, ...]:
    """The canonical metrics a panel name stands for.

    >>> panel_metrics("kl")
    ('kl_chosen', 'kl_rejected', 'kl')
    >>> panel_metrics("loss")
    ('loss',)
    """
    return _PANELS.get(name, (name,))
