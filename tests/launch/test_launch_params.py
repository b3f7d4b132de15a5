"""Hyperparameter checks: errors for impossible values, warnings for unusual ones."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import pytest

from prefnb.launch import LaunchWarning, ParameterError
from prefnb.launch.params import (
    canonical,
    check_dpo,
    check_limits,
    check_sft,
    dpo_params,
    long_pairs,
    sft_params,
)
from prefnb.testing.limits import model_limits

MODEL = "meta-llama/Meta-Llama-3.1-8B-Instruct-Reference"


def limits() -> dict[str, Any]:
    found = model_limits(MODEL)
    assert found is not None
    return dict(found)


@pytest.mark.parametrize("beta", [0.05, 0.1, 0.5, 0.9])
def test_documented_beta_range_is_quiet(beta: float) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check_dpo(dpo_params(model=MODEL, dpo_beta=beta)) == []


@pytest.mark.parametrize("beta", [0.01, 1.5])
def test_beta_outside_documented_range_warns_from_the_callers_line(beta: float) -> None:
    with pytest.warns(LaunchWarning, match="outside Together's documented range") as rec:
        check_dpo(dpo_params(model=MODEL, dpo_beta=beta))
    assert rec[0].filename == __file__  # attributed to the user's code, not prefnb's


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"dpo_beta": -0.1}, "dpo_beta must be > 0"),
        ({"dpo_beta": float("nan")}, "dpo_beta must be a number"),
        ({"rpo_alpha": -1.0}, "rpo_alpha must be ≥ 0"),
        ({"simpo_gamma": -0.5}, "simpo_gamma must be ≥ 0"),
        ({"n_epochs": 0}, "n_epochs must be ≥ 1"),
        ({"learning_rate": 0.0}, "learning_rate must be > 0"),
        ({"batch_size": "big"}, "batch_size must be an integer"),
        ({"lora": False, "lora_r": 8}, "only apply with LoRA"),
        ({"suffix": "x" * 41}, "suffix is at most 40 characters"),
    ],
)
def test_impossible_values_are_errors(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        check_dpo(dpo_params(model=MODEL, **kwargs))


def test_simpo_note_says_what_changes() -> None:
    [note] = check_dpo(dpo_params(model=MODEL, simpo_gamma=1.0))
    assert "normalized by length" in note
    assert "reference model is dropped" in note


def test_train_on_inputs_is_refused_for_dpo_and_checked_for_sft() -> None:
    with pytest.raises(ParameterError, match="not allowed for DPO"):
        check_dpo(dpo_params(model=MODEL, train_on_inputs="auto"))
    assert check_sft(sft_params(model=MODEL, train_on_inputs=False)) == []
    with pytest.raises(ParameterError, match="True, False or 'auto'"):
        check_sft(sft_params(model=MODEL, train_on_inputs="yes"))  # type: ignore[arg-type]


def test_limits_for_dpo_use_the_dpo_maxima() -> None:
    lim = limits()
    assert lim["lora_training"]["max_batch_size_dpo"] < lim["lora_training"]["max_batch_size"]
    top = lim["lora_training"]["max_batch_size_dpo"]
    check_limits(dpo_params(model=MODEL, batch_size=top), lim, has_validation=False)
    with pytest.raises(ParameterError, match=f"max_batch_size_dpo={top}"):
        check_limits(dpo_params(model=MODEL, batch_size=top + 1), lim, has_validation=False)
    # The same batch size is fine for SFT, whose maximum is higher.
    check_limits(sft_params(model=MODEL, batch_size=top + 1), lim, has_validation=False)
    with pytest.raises(ParameterError, match="max_seq_length_dpo"):
        check_limits(
            dpo_params(model=MODEL, max_seq_length=lim["max_seq_length_dpo"] + 1),
            lim,
            has_validation=False,
        )
    with pytest.raises(ParameterError, match="maximum rank"):
        check_limits(
            dpo_params(model=MODEL, lora_r=lim["lora_training"]["max_rank"] * 2),
            lim,
            has_validation=False,
        )


def test_full_training_refused_where_the_model_has_none() -> None:
    lim = model_limits("Qwen/Qwen2.5-0.5B-Instruct")
    assert lim is not None
    with pytest.raises(ParameterError, match="supports only LoRA"):
        check_limits(dpo_params(model="Qwen/Qwen2.5-0.5B-Instruct", lora=False), dict(lim),
                     has_validation=False)  # fmt: skip


def test_canonical_ignores_order_none_and_int_float_spelling() -> None:
    a = canonical({**dpo_params(model=MODEL, n_epochs=2), "wandb": False})
    b = canonical(
        dict(reversed(list({**dpo_params(model=MODEL, n_epochs=2), "wandb": False}.items())))
    )
    assert a == b
    assert canonical({"x": 1}) == canonical({"x": 1.0})
    assert canonical(dpo_params(model=MODEL, dpo_beta=0.1)) != canonical(
        dpo_params(model=MODEL, dpo_beta=0.2)
    )


def test_long_pairs_flags_responses_over_half_the_context(tmp_path: Path) -> None:
    path = tmp_path / "long.jsonl"
    short = "x" * 400  # ~100 tokens
    long = "y" * 4400  # ~1100 tokens
    lines = [
        {"input": {"messages": [{"role": "user", "content": "q"}]},
         "preferred_output": [{"role": "assistant", "content": short}],
         "non_preferred_output": [{"role": "assistant", "content": short}]},
        {"input": {"messages": [{"role": "user", "content": "q"}]},
         "preferred_output": [{"role": "assistant", "content": short}],
         "non_preferred_output": [{"role": "assistant", "content": long}]},
    ]  # fmt: skip
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    found = long_pairs(path, context=2048)
    assert found == [{"line": 2, "side": "non_preferred", "tokens": 1101, "budget": 1024}]
    assert long_pairs(path, context=4096) == []
