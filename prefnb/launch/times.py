"""Times as Together's API and SDK hand them over, read as Unix seconds.

Example:
    >>> epoch_seconds("1970-01-01T00:01:00Z"), epoch_seconds(60), epoch_seconds("soon")
    (60.0, 60.0, None)
"""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["epoch_seconds"]


def epoch_seconds(value: object) -> float | None:
    """A datetime (the SDK's ``to_dict()`` keeps them), epoch number or ISO 8601 text (``Z``
    or an offset; naive means UTC) as Unix seconds; None for anything else."""
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()
    return None
