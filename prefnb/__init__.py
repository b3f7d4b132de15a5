"""prefnb: curate preference pairs, label them, validate, export and fine-tune with DPO.

Example:
    >>> import prefnb
    >>> df = prefnb.pairs_frame([{"prompt": "2+2?", "response_a": "4", "response_b": "5"}])
    >>> prefnb.check_pairs(df)
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from prefnb.compare import CompareResult, compare_models
    from prefnb.deploy import Endpoint, chat, endpoints
    from prefnb.export import ExportError, ExportResult, export_dpo, export_sft
    from prefnb.formats import (
        FormatError,
        detect_format,
        read_pairs,
        write_dpo_jsonl,
        write_pairs,
        write_sft_jsonl,
        write_trl,
    )
    from prefnb.formats.binarize import binarize
    from prefnb.generation import generate
    from prefnb.judge import JudgeRun, judge, judge_report, route
    from prefnb.labeler import Labeler
    from prefnb.labels import LabelStore, LabelStoreError, apply_labels, audit_stats
    from prefnb.labels.team_panel import TeamPanel
    from prefnb.launch import (
        AuthenticationFailed,
        DataRejected,
        FileValidationFailed,
        InsufficientFunds,
        Job,
        JobFailed,
        JobMonitor,
        LaunchError,
        LaunchWarning,
        ParameterError,
        TogetherUnavailable,
        UnknownModel,
        jobs,
        launch_dpo,
        launch_sft,
        launch_sft_then_dpo,
        sweep,
    )
    from prefnb.pair_stats import PairStats, stats
    from prefnb.pairs import (
        LABELS,
        PairSchemaError,
        check_pairs,
        pair_id,
        pairs_frame,
    )
    from prefnb.plots import MetricsExplorer, plot_dataset, plot_metrics
    from prefnb.plots.sweep import plot_sweep
    from prefnb.sample import load_sample
    from prefnb.training_metrics import metrics
    from prefnb.validation import Finding, ValidationError, ValidationReport, validate

__version__ = "0.1.0"

# Public names load on first use: `import prefnb` stays fast for the CLI and for worker
# processes, instead of paying for plotly, the together SDK and anywidget up front.
_EXPORTS: dict[str, str] = {
    "ExportError": "prefnb.export",
    "ExportResult": "prefnb.export",
    "export_dpo": "prefnb.export",
    "export_sft": "prefnb.export",
    "FormatError": "prefnb.formats",
    "binarize": "prefnb.formats",
    "detect_format": "prefnb.formats",
    "read_pairs": "prefnb.formats",
    "write_dpo_jsonl": "prefnb.formats",
    "write_pairs": "prefnb.formats",
    "write_sft_jsonl": "prefnb.formats",
    "write_trl": "prefnb.formats",
    "Labeler": "prefnb.labeler",
    "LabelStore": "prefnb.labels",
    "LabelStoreError": "prefnb.labels",
    "apply_labels": "prefnb.labels",
    "audit_stats": "prefnb.labels",
    "TeamPanel": "prefnb.labels.team_panel",
    "Job": "prefnb.launch",
    "JobMonitor": "prefnb.launch",
    "jobs": "prefnb.launch",
    "launch_dpo": "prefnb.launch",
    "launch_sft_then_dpo": "prefnb.launch",
    "sweep": "prefnb.launch",
    "AuthenticationFailed": "prefnb.launch",
    "DataRejected": "prefnb.launch",
    "FileValidationFailed": "prefnb.launch",
    "InsufficientFunds": "prefnb.launch",
    "JobFailed": "prefnb.launch",
    "LaunchError": "prefnb.launch",
    "LaunchWarning": "prefnb.launch",
    "ParameterError": "prefnb.launch",
    "TogetherUnavailable": "prefnb.launch",
    "UnknownModel": "prefnb.launch",
    "launch_sft": "prefnb.launch",
    "PairStats": "prefnb.pair_stats",
    "stats": "prefnb.pair_stats",
    "LABELS": "prefnb.pairs",
    "PairSchemaError": "prefnb.pairs",
    "check_pairs": "prefnb.pairs",
    "pair_id": "prefnb.pairs",
    "pairs_frame": "prefnb.pairs",
    "MetricsExplorer": "prefnb.plots",
    "plot_dataset": "prefnb.plots",
    "plot_metrics": "prefnb.plots",
    "load_sample": "prefnb.sample",
    "metrics": "prefnb.training_metrics",
    "Finding": "prefnb.validation",
    "ValidationError": "prefnb.validation",
    "ValidationReport": "prefnb.validation",
    "validate": "prefnb.validation",
    "JudgeRun": "prefnb.judge",
    "judge": "prefnb.judge",
    "judge_report": "prefnb.judge",
    "route": "prefnb.judge",
    "generate": "prefnb.generation",
    "CompareResult": "prefnb.compare",
    "compare_models": "prefnb.compare",
    "Endpoint": "prefnb.deploy",
    "chat": "prefnb.deploy",
    "endpoints": "prefnb.deploy",
    "plot_sweep": "prefnb.plots.sweep",
}


class _Package(types.ModuleType):
    """``prefnb.judge`` and ``prefnb.generate`` are functions that share their name with a
    subpackage; importing the subpackage (``from prefnb.judge.run import ...``) makes Python
    set ``prefnb.judge`` to the module, shadowing the function. Keep the function."""

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, types.ModuleType) and name in _EXPORTS:
            return  # the subpackage stays importable through sys.modules
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'prefnb' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


__all__ = [
    "LABELS",
    "AuthenticationFailed",
    "CompareResult",
    "DataRejected",
    "Endpoint",
    "ExportError",
    "ExportResult",
    "FileValidationFailed",
    "Finding",
    "FormatError",
    "InsufficientFunds",
    "Job",
    "JobFailed",
    "JobMonitor",
    "JudgeRun",
    "LabelStore",
    "LabelStoreError",
    "Labeler",
    "LaunchError",
    "LaunchWarning",
    "MetricsExplorer",
    "PairSchemaError",
    "PairStats",
    "ParameterError",
    "TeamPanel",
    "TogetherUnavailable",
    "UnknownModel",
    "ValidationError",
    "ValidationReport",
    "__version__",
    "apply_labels",
    "audit_stats",
    "binarize",
    "chat",
    "check_pairs",
    "compare_models",
    "detect_format",
    "endpoints",
    "export_dpo",
    "export_sft",
    "generate",
    "jobs",
    "judge",
    "judge_report",
    "launch_dpo",
    "launch_sft",
    "launch_sft_then_dpo",
    "load_sample",
    "metrics",
    "pair_id",
    "pairs_frame",
    "plot_dataset",
    "plot_metrics",
    "plot_sweep",
    "read_pairs",
    "route",
    "stats",
    "sweep",
    "validate",
    "write_dpo_jsonl",
    "write_pairs",
    "write_sft_jsonl",
    "write_trl",
]
