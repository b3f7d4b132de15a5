"""Launch DPO, SFT→DPO and sweeps of DPO jobs on Together from a DataFrame or a JSONL file.

Every launch goes through the same steps, and stops at the first problem with a plain
message, before anything is sent that should not be:

1. check the hyperparameters (no request);
2. export a DataFrame to ``$PREFNB_HOME/exports`` and validate the file with prefnb's
   ``together`` profile (a file it rejects is never uploaded);
3. read the model's limits (``/v1/fine-tunes/models/limits``) and check batch size,
   ``max_seq_length`` etc. against them, and report pairs too long for half the context;
4. look the launch up in the job ledger: the same data and parameters return the existing
   job unless ``force=True``;
5. upload (reusing a file Together already has), wait for Together's file processing;
6. ask for a price estimate and stop if Together says the account cannot pay;
7. create the job, record it in the ledger and return a :class:`~prefnb.launch.job.Job`.

Example:
    >>> job = launch_dpo("pairs.jsonl", model="meta-llama/Llama-3.2-3B-Instruct",
    ...                  dpo_beta=0.2)  # doctest: +SKIP
    >>> job.wait()  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import difflib
import io
import itertools
import os
import tempfile
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, Unpack

import pandas as pd
import together
from together.lib.resources.fine_tuning import create_finetune_request
from together.lib.types.fine_tuning import FinetuneResponse as FinetuneResponseLib

from prefnb.launch.billable import Intent, create_once
from prefnb.launch.credentials import (
    client_base_url,
    remember_secret,
    resolve_client,
    service_name,
)
from prefnb.launch.errors import (
    DataRejected,
    FileValidationFailed,
    InsufficientFunds,
    ParameterError,
    api_errors,
)
from prefnb.launch.job import Job
from prefnb.launch.ledger import Ledger, job_key
from prefnb.launch.params import (
    LaunchWarning,
    TrainingParams,
    canonical,
    check_dpo,
    check_limits,
    check_sft,
    dpo_params,
    long_pairs,
    sft_params,
    warn_user,
)
from prefnb.launch.sdk_args import NAMES, SECRETS, TrainingArgs, params_doc
from prefnb.launch.upload import file_checksum, upload_file

__all__ = [
    "GRID_PARAMS",
    "checkpoint_ref",
    "launch_dpo",
    "launch_sft",
    "launch_sft_then_dpo",
    "sweep",
]

_RETRY_STATUSES = frozenset({"error", "user_error", "cancelled"})


def _say(message: str) -> None:
    print(message)


def exports_dir() -> Path:
    """Where DataFrames are exported before upload: ``$PREFNB_HOME/exports``."""
    home = os.environ.get("PREFNB_HOME") or "~/.prefnb"
    d = Path(home).expanduser() / "exports"
    d.mkdir(parents=True, exist_ok=True)
    return d


def _check_sft_file(path: Path) -> None:
    """Conversational SFT lines: ``{"messages": [...]}`` ending with an assistant answer."""
    import json

    with path.open(encoding="utf-8") as f:
        for n, raw in enumerate(f, start=1):
            if not raw.strip():
                continue
            try:
                rec = json.loads(raw)
            except ValueError as exc:
                raise DataRejected(
                    f"{path}, line {n}: not valid JSON ({exc}); not uploaded."
                ) from None
            msgs = rec.get("messages") if isinstance(rec, dict) else None
            ok = (
                isinstance(msgs, list)
                and msgs
                and all(isinstance(m, dict) and "role" in m and "content" in m for m in msgs)
                and msgs[-1].get("role") == "assistant"
            )
            if not ok:
                raise DataRejected(
                    f'{path}, line {n}: expected {{"messages": [{{"role", "content"}}, …]}} '
                    "ending with an assistant message (conversational SFT format); not uploaded."
                )


def _check_file(path: Path, what: str, method: str = "dpo") -> Path:
    from prefnb.validation import validate

    if not path.is_file():
        raise DataRejected(f"{what} file {path} does not exist.")
    if path.suffix != ".jsonl":
        raise DataRejected(f"{what} file {path} must be a .jsonl file (got {path.suffix!r}).")
    if method == "sft":
        _check_sft_file(path)
        return path
    report = validate(path, profile="together")
    if not report.ok:
        try:
            report.raise_for_errors()
            detail = "\n".join(str(e) for e in report.errors[:10])
        except Exception as exc:
            detail = str(exc)
        raise DataRejected(
            f"{path} was not uploaded: prefnb's validator (profile 'together') rejected it.\n"
            f"{detail}"
        )
    return path


def _settle(tmp: Path, method: str) -> Path:
    # Name the export by its content so the same data keeps the same name (and upload).
    final = tmp.with_name(f"{method}-{file_checksum(tmp)[:16]}.jsonl")
    os.replace(tmp, final)
    return final


def _export(
    method: Literal["dpo", "sft"], df: pd.DataFrame, val_fraction: float
) -> tuple[Path, Path | None]:
    from prefnb.export import export_dpo, export_sft

    out = exports_dir()
    fd, name = tempfile.mkstemp(prefix=f".{method}-", suffix=".jsonl", dir=out)
    os.close(fd)
    train = Path(name)
    val = train.with_name(train.stem + "-val.jsonl") if val_fraction > 0 else None
    try:
        if method == "dpo":
            export_dpo(
                df, train, validation_path=val, val_fraction=val_fraction, profile="together"
            )
        else:
            export_sft(df, train, validation_path=val, val_fraction=val_fraction)
    except Exception:
        train.unlink(missing_ok=True)
        if val is not None:
            val.unlink(missing_ok=True)
        raise
    return _settle(train, method), (_settle(val, method + "-val") if val is not None else None)


def _prepare(method: Literal["dpo", "sft"], data: Any, validation: Any) -> tuple[Path, Path | None]:
    """The training and validation files to upload, exported and validated."""
    from prefnb.export import ExportResult

    if isinstance(data, ExportResult):
        if data.kind != method:
            raise ParameterError(
                f"This is a {data.kind.upper()} export; a {method.upper()} job needs "
                f"a {method.upper()} file."
            )
        if validation is None:
            validation = data.paths.get("validation")
        data = data.paths["train"]
    if isinstance(data, pd.DataFrame):
        fraction = 0.0
        if isinstance(validation, float) and not isinstance(validation, bool):
            if not 0 < validation < 1:
                raise ParameterError(
                    f"validation as a fraction must be in (0, 1) (got {validation})"
                )
            fraction = validation
        train, val = _export(method, data, fraction)
        if isinstance(validation, pd.DataFrame):
            val, _ = _export(method, validation, 0.0)
    elif isinstance(data, (str, os.PathLike)):
        train = Path(data)
        if isinstance(validation, float):
            raise ParameterError(
                "validation=<fraction> needs a DataFrame; pass a file path instead."
            )
        val = None
        if isinstance(validation, pd.DataFrame):
            val, _ = _export(method, validation, 0.0)
    else:
        raise ParameterError(
            f"data must be a pair DataFrame or a path to a .jsonl file (got {type(data).__name__})"
        )
    if isinstance(validation, (str, os.PathLike)):
        val = Path(validation)
    elif validation is not None and not isinstance(validation, (float, pd.DataFrame)):
        raise ParameterError(
            "validation must be None, a .jsonl path, a DataFrame or a fraction such as 0.1 "
            f"(got {type(validation).__name__})"
        )
    _check_file(train, "Training", method)
    if val is not None:
        _check_file(val, "Validation", method)
    return train, val


def checkpoint_ref(value: Any) -> str:
    """The ``from_checkpoint`` text for a job id, ``"ft-…:step"``, a :class:`Job` or a
    checkpoint from ``job.checkpoints()``.

    >>> checkpoint_ref("ft-1:5"), checkpoint_ref({"job_id": "ft-1", "step": 5})
    ('ft-1:5', 'ft-1:5')
    """
    if isinstance(value, str):
        if not value.strip():
            raise ParameterError("from_checkpoint must name a job, e.g. 'ft-…' or 'ft-…:step'")
        return value
    if isinstance(value, Job):
        return value.id
    job_id = value.get("job_id") if isinstance(value, Mapping) else getattr(value, "job_id", None)
    step = value.get("step") if isinstance(value, Mapping) else getattr(value, "step", None)
    if isinstance(job_id, str) and job_id:
        return f"{job_id}:{step}" if step is not None else job_id
    raise ParameterError(
        "from_checkpoint must be a job id ('ft-…'), 'ft-…:step', a Job or a checkpoint from "
        f"job.checkpoints() (got {type(value).__name__})"
    )


def _sdk_args(p: TrainingParams) -> dict[str, Any]:
    """The arguments the user gave, as ``client.fine_tuning.create`` takes them."""
    args = {k: v for k, v in p.items() if k in NAMES}
    if args.get("from_checkpoint") is not None:
        args["from_checkpoint"] = checkpoint_ref(args["from_checkpoint"])
    return args


def _sdk_request(
    p: TrainingParams, limits: Any, training_file: str, validation_file: str | None
) -> tuple[Any, Any, Any]:
    """The SDK's own request object (and price-estimate parts), built from exactly the
    arguments given, so omitted ones get the SDK's defaults; its checks run here too."""
    try:
        # The SDK prints its SimPO note with rich; prefnb says the same in its own words.
        with contextlib.redirect_stdout(io.StringIO()):
            return create_finetune_request(
                model_limits=limits,
                training_file=training_file,
                validation_file=validation_file or "",
                training_method=p["method"],
                **_sdk_args(p),
            )
    except ValueError as exc:
        raise ParameterError(str(exc)) from None


def _key_params(body: Mapping[str, Any]) -> str:
    """The ledger's canonical text of a request: file ids are keyed by checksum instead."""
    return canonical(
        {k: v for k, v in body.items() if k not in ("training_file", "validation_file")}
    )


def _parent(client: Any, ref: str, ledger: Ledger) -> tuple[str | None, bool | None]:
    """(base model, is LoRA) of the job a checkpoint belongs to, from Together (or None)."""
    source = ref.split(":")[0]
    try:
        info = client.fine_tuning.retrieve(source).to_dict()
    except together.APIError:
        row = ledger.get_job(source)
        return (row["model"] if row else None), None
    ttype = info.get("training_type") or {}
    kind = ttype.get("type") if isinstance(ttype, Mapping) else None
    return info.get("model"), (None if kind is None else kind == "Lora")


def _launch(
    p: TrainingParams,
    train: Path,
    val: Path | None,
    *,
    client: Any,
    base_model: str | None,
    force: bool,
    wait: bool,
    progress: bool,
    notes: Sequence[str],
    ledger: Ledger | None,
) -> Job:
    ledger = ledger or Ledger()
    ref = checkpoint_ref(p["from_checkpoint"]) if p.get("from_checkpoint") else None
    inherited: bool | None = None
    limits_model = p.get("model") or base_model
    if ref is not None:
        parent_model, inherited = _parent(client, ref, ledger)
        limits_model = limits_model or parent_model or ref.split(":")[0]
    assert limits_model is not None
    with api_errors(
        service=service_name(client),
        model=limits_model,
        what=f"reading the fine-tuning limits of {limits_model}",
    ):
        limits = client.fine_tuning.model_limits(model_name=limits_model)
    check_limits(p, limits.to_dict(), has_validation=val is not None, inherited_lora=inherited)
    dry, _, _ = _sdk_request(p, limits, "file-dry-run", "file-dry-run" if val else None)
    if p["method"] == "dpo":
        context = p.get("max_seq_length") or limits.max_seq_length_dpo
        long = long_pairs(train, context)
        if long:
            lines = sorted({x["line"] for x in long})
            shown = ", ".join(str(n) for n in lines[:10]) + (" …" if len(lines) > 10 else "")
            warn_user(
                f"{len(lines)} pair(s) in {train.name} (lines {shown}) have a prompt + response "
                f"estimated above {context // 2} tokens, half of the {context}-token context: "
                "DPO gives the preferred and the non-preferred sequence half the context each, "
                "so these will be truncated.",
                LaunchWarning,
            )

    base = client_base_url(client)
    params_text = _key_params(dry.model_dump(exclude_none=True))
    train_sum = file_checksum(train)
    val_sum = file_checksum(val) if val is not None else None
    key = job_key(base, p["method"], train_sum, val_sum, params_text)
    if not force:
        row = ledger.find_job(key)
        if row is not None:
            job = Job(row["job_id"], client, ledger=ledger, info={"status": row["status"]})
            status = job.status()
            if status not in _RETRY_STATUSES:
                _say(
                    f"{job.id} ({status}) was already launched with this data and these "
                    "parameters; returning it (force=True starts a new job)."
                )
                return job.wait(progress=progress) if wait else job
            _say(f"The earlier launch {job.id} ended {status}; starting a new job.")

    for note in notes:
        _say(note)
    train_id = upload_file(client, train, ledger=ledger, checksum=train_sum, progress=progress)
    val_id = (
        upload_file(client, val, ledger=ledger, checksum=val_sum, progress=progress)
        if val is not None
        else None
    )
    request, pe_type, pe_method = _sdk_request(p, limits, train_id, val_id)
    with api_errors(service=service_name(client), what="estimating the price"):
        estimate = client.fine_tuning.estimate_price(
            training_file=train_id,
            validation_file=val_id or together_omit(),
            model=request.model or "",
            from_checkpoint=request.from_checkpoint or together_omit(),
            n_epochs=request.n_epochs,
            n_evals=request.n_evals or 0,
            training_type=pe_type if pe_type is not None else together_omit(),
            training_method=pe_method,
        ).to_dict()
    if estimate.get("estimation_available") is False:
        reason = estimate.get("unavailable_reason")
        if reason in ("train_file_invalid", "eval_file_invalid"):
            which = train if reason == "train_file_invalid" else val
            raise FileValidationFailed(
                train_id if reason == "train_file_invalid" else str(val_id),
                str(which),
                f"the price estimate says the file is invalid ({reason})",
            )
    elif estimate.get("allowed_to_proceed") is False:
        raise InsufficientFunds(estimate.get("estimated_total_price"), estimate.get("user_limit"))

    body = request.model_dump(exclude_none=True)
    match: dict[str, Any] = {"training_file": train_id}
    if ref is not None:
        match["from_checkpoint"] = ref
    else:
        match["model"] = request.model
    if request.suffix:
        match["suffix"] = request.suffix
    quiet = client.with_options(max_retries=0)

    def record(info: Mapping[str, Any]) -> None:
        ledger.record_job(
            str(info["id"]),
            key=key,
            base_url=base,
            method=p["method"],
            model=request.model or limits_model,
            from_checkpoint=ref,
            training_checksum=train_sum,
            validation_checksum=val_sum,
            training_file_id=train_id,
            validation_file_id=val_id,
            params=params_text,
            status=info.get("status"),
            model_output_name=info.get("model_output_name"),
        )

    with api_errors(
        service=service_name(client), model=limits_model, what="creating the fine-tuning job"
    ):
        info = create_once(
            ledger=ledger,
            intent=Intent(kind="fine-tune", key=key, base_url=base, match=match),
            send=lambda: quiet.post(
                "/v1/fine-tunes", body=body, cast_to=FinetuneResponseLib
            ).model_dump(mode="json", by_alias=True, exclude_none=True),
            listing=lambda: [j.to_dict() for j in client.fine_tuning.list().data or []],
            adopt=dict,
            object_id=lambda d: str(d["id"]),
            record=record,
            say=_say,
            service=service_name(client, train_id),
        )
    job = Job(str(info["id"]), client, ledger=ledger, info=dict(info))
    where = service_name(client, job.id)
    _say(f"Started {p['method'].upper()} job {job.id} on {limits_model} ({where}).")
    return job.wait(progress=progress) if wait else job


def together_omit() -> Any:
    """The SDK's "leave this field out" marker."""
    from together._types import omit

    return omit


def _check_names(fn: str, params: Mapping[str, Any]) -> None:
    unknown = sorted(set(params) - set(NAMES))
    if unknown:
        hints = []
        for name in unknown:
            close = difflib.get_close_matches(name, NAMES, n=1)
            hints.append(f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        raise TypeError(
            f"{fn}() got unexpected argument(s): {', '.join(hints)}. It takes every keyword of "
            "together's client.fine_tuning.create (see help(prefnb.launch_dpo))."
        )


def launch_dpo(
    data: Any,
    *,
    validation: Any = None,
    client: Any = None,
    wait: bool = False,
    force: bool = False,
    progress: bool = True,
    base_model: str | None = None,
    ledger: Ledger | None = None,
    **params: Unpack[TrainingArgs],
) -> Job:
    """Start a DPO job on Together from a pair DataFrame or a DPO ``.jsonl`` file.

    ``data`` may also be the result of :func:`prefnb.export_dpo` (its validation file is
    used unless ``validation`` is given). Give ``model`` (the base model) or
    ``from_checkpoint`` (a job id, ``"ft-…:step"``, a :class:`Job` or a checkpoint from
    ``job.checkpoints()``) to continue a job: it then inherits the parent's model and
    training type, as with the SDK; ``base_model`` names the model whose limits apply when
    Together cannot say. ``validation`` is a ``.jsonl`` path, a DataFrame, or a fraction of
    ``data`` (DataFrame only). Returns the existing job when the same data and parameters
    were launched before, unless ``force``. ``wait=True`` blocks until the job finishes
    (with a progress bar unless ``progress`` is False).

    Example:
        >>> job = launch_dpo(df, model="meta-llama/Llama-3.2-3B-Instruct",
        ...                  dpo_beta=0.2)  # doctest: +SKIP
    """
    _check_names("launch_dpo", params)
    p = dpo_params(**params)
    notes = check_dpo(p)
    client = resolve_client(client)
    remember_secret(params.get("wandb_api_key"))
    remember_secret(params.get("hf_api_token"))
    train, val = _prepare("dpo", data, validation)
    return _launch(
        p, train, val, client=client, base_model=base_model, force=force, wait=wait,
        progress=progress, notes=notes, ledger=ledger,
    )  # fmt: skip


def launch_sft(
    data: Any,
    *,
    validation: Any = None,
    client: Any = None,
    wait: bool = False,
    force: bool = False,
    progress: bool = True,
    base_model: str | None = None,
    ledger: Ledger | None = None,
    **params: Unpack[TrainingArgs],
) -> Job:
    """Start an SFT job: a pair DataFrame becomes prompt + preferred response conversations.

    Takes the same arguments as :func:`launch_dpo` except the DPO-only ones, plus
    ``train_on_inputs`` (the SDK sends ``"auto"`` when it is left out).

    Example:
        >>> job = launch_sft(df, model="meta-llama/Llama-3.2-3B-Instruct")  # doctest: +SKIP
    """
    _check_names("launch_sft", params)
    p = sft_params(**params)
    notes = check_sft(p)
    client = resolve_client(client)
    remember_secret(params.get("wandb_api_key"))
    remember_secret(params.get("hf_api_token"))
    train, val = _prepare("sft", data, validation)
    return _launch(
        p, train, val, client=client, base_model=base_model, force=force, wait=wait,
        progress=progress, notes=notes, ledger=ledger,
    )  # fmt: skip


def launch_sft_then_dpo(
    df: pd.DataFrame,
    *,
    model: str,
    sft: Mapping[str, Any] | None = None,
    dpo: Mapping[str, Any] | None = None,
    client: Any = None,
    wait: bool = False,
    force: bool = False,
    progress: bool = True,
    ledger: Ledger | None = None,
) -> tuple[Job, Job]:
    """Together's recommended recipe: SFT on prompt + preferred, then DPO from that checkpoint.

    Runs the SFT job and waits for it (so this blocks), then starts DPO with
    ``from_checkpoint`` set to the SFT job. The DPO job inherits the SFT job's training
    type (LoRA rank and alpha included) unless ``dpo`` sets ``lora``, exactly as the SDK
    sends it. ``sft`` and ``dpo`` hold extra arguments for :func:`launch_sft` /
    :func:`launch_dpo`. Re-running after a kernel restart finds both jobs in the ledger and
    returns them instead of starting new ones. ``wait`` waits for DPO too.

    Example:
        >>> sft_job, dpo_job = launch_sft_then_dpo(df, model="meta-llama/Llama-3.2-3B-Instruct",
        ...     sft={"n_epochs": 2}, dpo={"dpo_beta": 0.2})  # doctest: +SKIP
    """
    client = resolve_client(client)
    ledger = ledger or Ledger()
    for name, extra in (("sft", sft), ("dpo", dpo)):
        clash = {"model", "client", "from_checkpoint", "ledger"} & set(extra or {})
        if clash:
            raise ParameterError(f"{name}={{...}} must not set {', '.join(sorted(clash))}")
    sft_job = launch_sft(
        df, model=model, client=client, force=force, progress=progress, ledger=ledger,
        **dict(sft or {}),
    )  # fmt: skip
    sft_job.wait(progress=progress, raise_on_failure=True)
    dpo_job = launch_dpo(
        df, from_checkpoint=sft_job.id, base_model=model, client=client, force=force,
        wait=wait, progress=progress, ledger=ledger, **dict(dpo or {}),
    )  # fmt: skip
    return sft_job, dpo_job


#: Parameters :func:`sweep` expands when given a list of values: every hyperparameter except
#: the model, the checkpoint and the secrets.
GRID_PARAMS = tuple(n for n in NAMES if n not in SECRETS and n not in ("model", "from_checkpoint"))


def sweep(
    data: Any,
    *,
    validation: Any = None,
    client: Any = None,
    ledger: Ledger | None = None,
    wait: bool = False,
    force: bool = False,
    progress: bool = True,
    base_model: str | None = None,
    **params: Any,
) -> list[Job]:
    """A grid of DPO jobs: every hyperparameter given as a list is expanded (product of all).

    Takes every argument of :func:`launch_dpo`; ``dpo_beta`` defaults to
    ``[0.05, 0.1, 0.3]``. The data is exported and uploaded once. Returns the jobs in grid
    order (already-launched combinations are reused).

    Example:
        >>> jobs = sweep(df, model="meta-llama/Llama-3.2-3B-Instruct",
        ...              dpo_beta=[0.05, 0.1, 0.3], rpo_alpha=[0.0, 0.5])  # doctest: +SKIP
        >>> len(jobs)  # doctest: +SKIP
        6
    """
    _check_names("sweep", params)
    params.setdefault("dpo_beta", [0.05, 0.1, 0.3])
    client = resolve_client(client)
    ledger = ledger or Ledger()
    grid: dict[str, list[Any]] = {}
    fixed: dict[str, Any] = {}
    for name, value in params.items():
        if name in GRID_PARAMS and isinstance(value, (list, tuple)):
            grid[name] = list(value)
        else:
            fixed[name] = value
    empty = [k for k, v in grid.items() if not v]
    if empty:
        raise ParameterError(f"sweep: {', '.join(empty)} has no values")
    # One export (and so one upload) for the whole grid.
    if isinstance(data, pd.DataFrame):
        data, validation = _prepare("dpo", data, validation)
    combos = [dict(zip(grid, values, strict=True)) for values in itertools.product(*grid.values())]
    with warnings.catch_warnings():  # launch_dpo warns for each job; here only errors matter
        warnings.simplefilter("ignore")
        for combo in combos:  # check every combination before launching any
            check_dpo(dpo_params(**{**fixed, **combo}))
    return [
        launch_dpo(
            data,
            validation=validation,
            client=client,
            ledger=ledger,
            wait=wait,
            force=force,
            progress=progress,
            base_model=base_model,
            **{**fixed, **combo},
        )
        for combo in combos
    ]


launch_dpo.__doc__ = (launch_dpo.__doc__ or "") + params_doc("dpo")
launch_sft.__doc__ = (launch_sft.__doc__ or "") + params_doc("sft")
