"""LLM judges: judge pairs through Together in both orders, route the uncertain ones to
people, and measure the judge against them.

Example:
    >>> from prefnb.judge import judge, route, judge_report
    >>> callable(judge) and callable(route) and callable(judge_report)
    True
"""

from __future__ import annotations

from prefnb.judge.chat_backend import JudgeError
from prefnb.judge.cost import CostEstimate, JudgeCostError
from prefnb.judge.prompt import DEFAULT_RUBRIC, rubric_hash
from prefnb.judge.report import judge_report
from prefnb.judge.route import route
from prefnb.judge.run import FRAME_COLUMNS, JudgeRun, judge, judge_annotator
from prefnb.judge.verdict import parse_verdict

__all__ = [
    "DEFAULT_RUBRIC",
    "FRAME_COLUMNS",
    "CostEstimate",
    "JudgeCostError",
    "JudgeError",
    "JudgeRun",
    "judge",
    "judge_annotator",
    "judge_report",
    "parse_verdict",
    "route",
    "rubric_hash",
]
