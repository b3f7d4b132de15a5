"""prefnb: curate preference pairs, label them, validate, export and fine-tune with DPO.

Example:
    >>> import prefnb
    >>> df = prefnb.pairs_frame([{"prompt": "2+2?", "response_a": "4", "response_b": "5"}])
    >>> prefnb.check_pairs(df)
"""

from __future__ import annotations

from prefnb.export import ExportError, ExportResult, export_dpo, export_sft
from prefnb.formats import (
    FormatError,
    binarize,
    detect_format,
    read_pairs,
    write_dpo_jsonl,
    write_pairs,
    write_sft_jsonl,
    write_trl,
)
from prefnb.labeler import Labeler
from prefnb.labels import LabelStore, LabelStoreError, apply_labels, audit_stats
from prefnb.launch import Job, JobMonitor, jobs, launch_dpo, launch_sft_then_dpo, sweep
from prefnb.pairs import (
    LABELS,
    PairSchemaError,
    check_pairs,
    pair_id,
    pairs_frame,
)
from prefnb.plots import MetricsExplorer, plot_dataset, plot_metrics
from prefnb.sample import load_sample
from prefnb.stats import PairStats, stats
from prefnb.training_metrics import metrics
from prefnb.validation import Finding, ValidationError, ValidationReport, validate

__version__ = "0.1.0"

__all__ = [
    "LABELS",
    "ExportError",
    "ExportResult",
    "Finding",
    "FormatError",
    "Job",
    "JobMonitor",
    "LabelStore",
    "LabelStoreError",
    "Labeler",
    "MetricsExplorer",
    "PairSchemaError",
    "PairStats",
    "ValidationError",
    "ValidationReport",
    "__version__",
    "apply_labels",
    "audit_stats",
    "binarize",
    "check_pairs",
    "detect_format",
    "export_dpo",
    "export_sft",
    "jobs",
    "launch_dpo",
    "launch_sft_then_dpo",
    "load_sample",
    "metrics",
    "pair_id",
    "pairs_frame",
    "plot_dataset",
    "plot_metrics",
    "read_pairs",
    "stats",
    "sweep",
    "validate",
    "write_dpo_jsonl",
    "write_pairs",
    "write_sft_jsonl",
    "write_trl",
]
