"""Every parameter of together 3.1.1's ``client.fine_tuning.create``, defined once.

:class:`TrainingArgs` is the one list of names and types. ``launch_dpo``, ``launch_sft`` and
``sweep`` take ``**TrainingArgs`` (``Unpack``); ``sweep`` expands any of them given as a list;
the job ledger keys on the request the SDK builds from them (secrets, :data:`SECRETS`, are
never part of the key); :func:`params_doc` writes the parameter section of the docstrings.

An argument left out is not passed on at all, so the SDK's request builder applies its own
default: what prefnb sends for a call is exactly what ``client.fine_tuning.create`` sends for
the same arguments. The defaults shown by :func:`params_doc` are read from the installed SDK's
signature, and :data:`CLI_DIFFERENCES` says where the ``together`` CLI sends something else.

Example:
    >>> "dpo_beta" in NAMES and "training_file" not in NAMES
    True
    >>> sdk_defaults()["learning_rate"]
    1e-05
"""

from __future__ import annotations

import functools
import inspect
from typing import TYPE_CHECKING, Any, Literal, TypedDict

if TYPE_CHECKING:
    from prefnb.launch.job import Checkpoint, Job

__all__ = [
    "CLI_DIFFERENCES",
    "NAMES",
    "SECRETS",
    "SECRET_FIELDS",
    "SET_BY_PREFNB",
    "TrainingArgs",
    "params_doc",
    "sdk_defaults",
]


class TrainingArgs(TypedDict, total=False):
    """The hyperparameters of a fine-tuning job, as ``client.fine_tuning.create`` names them.

    ``from_checkpoint`` also takes a :class:`~prefnb.launch.job.Job` or a checkpoint from
    ``job.checkpoints()`` (prefnb turns either into the ``ft-…:step`` text the SDK sends).
    """

    model: str | None
    from_checkpoint: str | Job | Checkpoint | None
    n_epochs: int
    packing: bool
    max_seq_length: int | None
    n_evals: int | None
    n_checkpoints: int | None
    batch_size: int | Literal["max"]
    gradient_accumulation_steps: int | None
    learning_rate: float | None
    lr_scheduler_type: Literal["linear", "cosine"]
    min_lr_ratio: float
    scheduler_num_cycles: float
    warmup_ratio: float
    max_grad_norm: float
    weight_decay: float
    lora: bool | None
    lora_r: int | None
    lora_dropout: float | None
    lora_alpha: float | None
    lora_trainable_modules: str | None
    train_vision: bool
    suffix: str | None
    wandb_api_key: str | None
    wandb_base_url: str | None
    wandb_project_name: str | None
    wandb_name: str | None
    wandb_entity: str | None
    random_seed: int | None
    early_stopping_enabled: bool
    early_stopping_patience: int | None
    early_stopping_min_delta: float | None
    early_stopping_warmup_evals: int | None
    train_on_inputs: bool | Literal["auto"] | None
    dpo_beta: float | None
    dpo_normalize_logratios_by_length: bool
    rpo_alpha: float | None
    simpo_gamma: float | None
    from_hf_model: str | None
    hf_model_revision: str | None
    hf_api_token: str | None
    hf_output_repo_name: str | None


#: Every hyperparameter name, in the SDK's order.
NAMES: tuple[str, ...] = tuple(TrainingArgs.__annotations__)
#: Parameters of ``create`` that prefnb fills in itself (files come from the upload, the
#: method from the function called); ``verbose`` only prints.
SET_BY_PREFNB = ("training_file", "validation_file", "training_method", "model_limits", "verbose")
#: Secret arguments → their field in the request body. Sent to Together, never written to
#: the ledger, logs or widget state.
SECRET_FIELDS = {"wandb_api_key": "wandb_key", "hf_api_token": "hf_api_token"}
SECRETS = frozenset(SECRET_FIELDS)

#: Where the together 3.1.1 CLI (``together fine-tuning create``) sends something other than
#: the SDK for an omitted option. prefnb follows the SDK.
CLI_DIFFERENCES: dict[str, str] = {
    "learning_rate": "the CLI sends 1e-3 when --lora is given and --learning-rate is not",
    "lora_r": "with --lora the CLI fills in the model's default rank itself (the SDK does too "
    "when lora=True)",
    "validation_file": "the CLI sends no validation_file; the SDK sends an empty string",
    "early_stopping_enabled": "the CLI sends early_stopping_* only with "
    "--early-stopping-enabled; the SDK always sends early_stopping_enabled",
}


@functools.cache
def sdk_defaults() -> dict[str, Any]:
    """Each parameter's default in the installed SDK's ``FineTuningResource.create``."""
    from together.resources.fine_tuning import FineTuningResource

    sig = inspect.signature(FineTuningResource.create)
    return {
        name: p.default
        for name, p in sig.parameters.items()
        if name in NAMES and p.default is not inspect.Parameter.empty
    }


def params_doc(method: Literal["dpo", "sft"]) -> str:
    """The "Hyperparameters" section of a launcher's docstring, from the SDK's signature."""
    dpo_only = {"dpo_beta", "dpo_normalize_logratios_by_length", "rpo_alpha", "simpo_gamma"}
    skip = {"train_on_inputs"} if method == "dpo" else dpo_only
    defaults = sdk_defaults()
    lines = [
        "",
        "Hyperparameters (every keyword of ``client.fine_tuning.create``; one left out is",
        "not sent by prefnb either, so Together's SDK default applies):",
        "",
    ]
    for name in NAMES:
        if name in skip:
            continue
        default = defaults.get(name)
        shown = "not sent" if default is None else repr(default)
        note = f" CLI: {CLI_DIFFERENCES[name]}." if name in CLI_DIFFERENCES else ""
        secret = " Never stored." if name in SECRETS else ""
        lines.append(f"    ``{name}`` (SDK default: {shown}).{note}{secret}")
    return "\n".join(lines) + "\n"
