"""Key discovery on the key names real loggers write (Together/W&B, TRL trainer_state)."""

from __future__ import annotations

import pytest

from prefnb.training_metrics.keys import classify, panel_metrics


@pytest.mark.parametrize(
    ("raw", "split", "metric", "role"),
    [
        # Together / W&B keys (the cookbook's charts and the API spec's example rows)
        ("train/loss", "train", "loss", "value"),
        ("eval/loss", "eval", "loss", "value"),
        ("train/global_step", "train", "step", "step"),
        ("eval/reward/accuracy", "eval", "accuracy", "value"),
        ("train/reward/accuracy", "train", "accuracy", "value"),
        ("train/approx. KL/chosen", "train", "kl_chosen", "value"),
        ("train/approx. KL/rejected", "train", "kl_rejected", "value"),
        ("eval/approx. KL/chosen", "eval", "kl_chosen", "value"),
        ("eval/approx. KL/rejected", "eval", "kl_rejected", "value"),
        ("train/learning_rate", "train", "learning_rate", "value"),
        ("train/grad_norm", "train", "grad_norm", "value"),
        ("train/epoch", "train", "epoch", "value"),
        ("timestamp", "train", "logged_at", "time"),
        ("_timestamp", "train", "logged_at", "time"),
        ("_step", "train", "step", "step"),
        # TRL DPOTrainer log_history keys
        ("loss", "train", "loss", "value"),
        ("rewards/accuracies", "train", "accuracy", "value"),
        ("rewards/margins", "train", "margin", "value"),
        ("rewards/chosen", "train", "reward_chosen", "value"),
        ("rewards/rejected", "train", "reward_rejected", "value"),
        ("logps/chosen", "train", "logp_chosen", "value"),
        ("logps/rejected", "train", "logp_rejected", "value"),
        ("logits/chosen", "train", "logits_chosen", "value"),
        ("nll_loss", "train", "nll_loss", "value"),
        ("learning_rate", "train", "learning_rate", "value"),
        ("step", "train", "step", "step"),
        ("eval_loss", "eval", "loss", "value"),
        ("eval_rewards/accuracies", "eval", "accuracy", "value"),
        ("eval_rewards/margins", "eval", "margin", "value"),
        ("eval_logps/chosen", "eval", "logp_chosen", "value"),
    ],
)
def test_real_keys_map_to_canonical_names(raw: str, split: str, metric: str, role: str) -> None:
    info = classify(raw)
    assert (info.split, info.metric, info.role) == (split, metric, role)
    assert info.raw_key == raw


@pytest.mark.parametrize(
    "raw",
    [
        "train/tokens_per_second",
        "eval_runtime",
        "train_loss",
        "train/some new metric",
        "total_flos",
    ],
)
def test_unknown_keys_keep_their_raw_key(raw: str) -> None:
    assert classify(raw).metric == raw
    assert classify(raw).role == "value"


def test_unknown_eval_key_is_still_eval() -> None:
    assert classify("eval/perplexity").split == "eval"
    assert classify("eval/perplexity").metric == "eval/perplexity"


def test_kl_panel_covers_chosen_and_rejected() -> None:
    assert panel_metrics("kl")[:2] == ("kl_chosen", "kl_rejected")
    assert panel_metrics("margin") == ("margin",)
