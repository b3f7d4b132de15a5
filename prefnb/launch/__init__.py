"""Launch DPO and SFT→DPO fine-tunes on Together, track them in a local ledger, watch them.

Example:
    >>> from prefnb.launch import Job, jobs, launch_dpo, launch_sft_then_dpo, sweep
"""

from __future__ import annotations

from prefnb.launch.errors import (
    AuthenticationFailed,
    DataRejected,
    FileValidationFailed,
    InsufficientFunds,
    JobFailed,
    LaunchError,
    ParameterError,
    TogetherUnavailable,
    UnknownModel,
)
from prefnb.launch.job import TERMINAL, Job
from prefnb.launch.launcher import launch_dpo, launch_sft, launch_sft_then_dpo, sweep
from prefnb.launch.ledger import Ledger, jobs
from prefnb.launch.monitor import JobMonitor
from prefnb.launch.params import LaunchWarning
from prefnb.launch.upload import delete_file

__all__ = [
    "TERMINAL",
    "AuthenticationFailed",
    "DataRejected",
    "FileValidationFailed",
    "InsufficientFunds",
    "Job",
    "JobFailed",
    "JobMonitor",
    "LaunchError",
    "LaunchWarning",
    "Ledger",
    "ParameterError",
    "TogetherUnavailable",
    "UnknownModel",
    "delete_file",
    "jobs",
    "launch_dpo",
    "launch_sft",
    "launch_sft_then_dpo",
    "sweep",
]
