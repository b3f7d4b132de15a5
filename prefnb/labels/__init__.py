"""Labels: the crash-safe label store (SQLite, or PostgreSQL for a team), applying labels,
copying stores, audits.

Example:
    >>> from prefnb.labels import LabelStore, apply_labels, audit_stats, cohen_kappa
    >>> round(cohen_kappa(["a", "b", "a"], ["a", "b", "b"]), 4)
    0.4
"""

from __future__ import annotations

from prefnb.labels.agreement import cohen_kappa, krippendorff_alpha
from prefnb.labels.apply import UnknownPairsWarning, apply_labels
from prefnb.labels.audit import audit_stats
from prefnb.labels.copy import copy_store
from prefnb.labels.events import (
    KINDS,
    SHOWN,
    STRENGTHS,
    VERDICTS,
    CurrentLabel,
    EventRow,
    Kind,
    LabelEvent,
    Shown,
    Strength,
    Verdict,
)
from prefnb.labels.store import SCHEMA_VERSION, LabelStore, LabelStoreError

__all__ = [
    "KINDS",
    "SCHEMA_VERSION",
    "SHOWN",
    "STRENGTHS",
    "VERDICTS",
    "CurrentLabel",
    "EventRow",
    "Kind",
    "LabelEvent",
    "LabelStore",
    "LabelStoreError",
    "Shown",
    "Strength",
    "UnknownPairsWarning",
    "Verdict",
    "apply_labels",
    "audit_stats",
    "cohen_kappa",
    "copy_store",
    "krippendorff_alpha",
]
