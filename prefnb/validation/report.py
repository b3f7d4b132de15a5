"""What a validation run found: findings, the report and the error it raises.

Example:
    >>> f = Finding("error", "together.output_role", "the role must be 'assistant'", line=3,
    ...             path="preferred_output[0].role")
    >>> report = ValidationReport(n_rows=5, findings=[f])
    >>> report.ok, len(report.errors), len(report.warnings)
    (False, 1, 0)
    >>> print(report)  # doctest: +ELLIPSIS
    ValidationReport: INVALID — 5 rows, 1 error, 0 warnings
      error line 3 preferred_output[0].role [together.output_role]: the role must be ...
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any, Literal, TypedDict

__all__ = ["Finding", "FindingDict", "Severity", "ValidationError", "ValidationReport"]

Severity = Literal["error", "warning"]

#: How many findings ``repr``/``str`` and :class:`ValidationError` list before "… and N more".
_SHOWN = 20


class FindingDict(TypedDict):
    """:meth:`Finding.to_dict` output (the ``--json`` shape of one finding)."""

    severity: Severity
    code: str
    message: str
    line: int | None
    pair_id: str | None
    path: str
    file: str | None


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem found in the data.

    ``line`` is 1-based (the file line, DataFrame row position or record position), ``path``
    a JSON path into the line such as ``input.messages[1].role`` ("" for file-level findings).
    """

    severity: Severity
    code: str
    message: str
    line: int | None = None
    pair_id: str | None = None
    path: str = ""
    file: str | None = None

    def to_dict(self) -> FindingDict:
        """The finding as a plain JSON-ready dict."""
        return FindingDict(
            severity=self.severity,
            code=self.code,
            message=self.message,
            line=self.line,
            pair_id=self.pair_id,
            path=self.path,
            file=self.file,
        )

    def where(self) -> str:
        """Short location text: ``file:line path`` with the parts that are known."""
        parts: list[str] = []
        if self.file:
            parts.append(self.file if self.line is None else f"{self.file}:{self.line}")
        elif self.line is not None:
            parts.append(f"line {self.line}")
        if self.pair_id:
            parts.append(f"pair {self.pair_id}")
        if self.path:
            parts.append(self.path)
        return " ".join(parts)

    def __str__(self) -> str:
        where = self.where()
        return f"{self.severity} {where} [{self.code}]: {self.message}".replace("  ", " ")


class ValidationError(ValueError):
    """Raised by :meth:`ValidationReport.raise_for_errors`; lists the first errors."""

    def __init__(self, report: ValidationReport) -> None:
        self.report = report
        errors = report.errors
        lines = [f"{len(errors)} validation error(s){' (truncated)' if report.truncated else ''}:"]
        lines += [f"  {e}" for e in errors[:_SHOWN]]
        if len(errors) > _SHOWN:
            lines.append(f"  … and {len(errors) - _SHOWN} more")
        super().__init__("\n".join(lines))


@dataclass
class ValidationReport:
    """The result of :func:`prefnb.validate`.

    ``ok`` is true when there is no error (warnings do not count). ``truncated`` is true when
    checking stopped listing errors after ``max_errors``.
    """

    n_rows: int = 0
    findings: list[Finding] = field(default_factory=list)
    truncated: bool = False
    profile: str = "together"
    source: str | None = None
    #: Dataset statistics the warnings were computed from (length bias etc.).
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def errors(self) -> list[Finding]:
        """The findings with severity ``error``, in line order."""
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        """The findings with severity ``warning``."""
        return [f for f in self.findings if f.severity == "warning"]

    @property
    def ok(self) -> bool:
        """True when no error was found."""
        return not any(f.severity == "error" for f in self.findings)

    def raise_for_errors(self) -> None:
        """Raise :class:`ValidationError` listing the first errors, if there are any."""
        if not self.ok:
            raise ValidationError(self)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: verdict, counts, findings and stats."""
        return {
            "ok": self.ok,
            "profile": self.profile,
            "source": self.source,
            "n_rows": self.n_rows,
            "n_errors": len(self.errors),
            "n_warnings": len(self.warnings),
            "truncated": self.truncated,
            "findings": [f.to_dict() for f in self.findings],
            "stats": self.stats,
        }

    def summary(self) -> str:
        """One line: verdict and counts."""
        verdict = "OK" if self.ok else "INVALID"
        ne, nw = len(self.errors), len(self.warnings)
        more = "+" if self.truncated else ""
        n_val = self.stats.get("n_rows_validation")
        if n_val is None:
            rows = f"{self.n_rows} row{'s' * (self.n_rows != 1)}"
        else:
            total = self.n_rows + n_val
            rows = f"{total} row{'s' * (total != 1)} ({self.n_rows} train + {n_val} validation)"
        errors = f"{ne}{more} error{'s' * (ne != 1)}"
        return f"{verdict} — {rows}, {errors}, {nw} warning{'s' * (nw != 1)}"

    def __str__(self) -> str:
        lines = [f"ValidationReport: {self.summary()}"]
        ordered = self.errors + self.warnings
        lines += [f"  {f}" for f in ordered[:_SHOWN]]
        if len(ordered) > _SHOWN:
            lines.append(f"  … and {len(ordered) - _SHOWN} more")
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        esc = html.escape
        color = "#1a7f37" if self.ok else "#cf222e"
        rows = []
        for f in (self.errors + self.warnings)[:200]:
            sev_color = "#cf222e" if f.severity == "error" else "#9a6700"
            rows.append(
                "<tr>"
                f"<td style='color:{sev_color}'>{esc(f.severity)}</td>"
                f"<td>{'' if f.line is None else f.line}</td>"
                f"<td><code>{esc(f.path)}</code></td>"
                f"<td><code>{esc(f.code)}</code></td>"
                f"<td style='text-align:left;white-space:pre-wrap'>{esc(f.message)}</td>"
                "</tr>"
            )
        table = ""
        if rows:
            table = (
                "<table><thead><tr><th>severity</th><th>line</th><th>path</th><th>code</th>"
                "<th style='text-align:left'>message</th></tr></thead><tbody>"
                + "".join(rows)
                + "</tbody></table>"
            )
        src = f" <code>{esc(self.source)}</code>" if self.source else ""
        return (
            f"<div class='prefnb-validation'><b style='color:{color}'>{esc(self.summary())}</b>"
            f" (profile <code>{esc(self.profile)}</code>){src}{table}</div>"
        )
