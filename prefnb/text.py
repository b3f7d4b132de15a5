"""Text of message contents, token estimates and fast row iteration, defined once.

Readers, the validator, ``prefnb stats`` and export all need the same three small things:
the text of a message content (a string, or a list of ``{"type": "text"}`` parts), a token
estimate when no tokenizer is given (characters / 4, as Together's docs suggest for English),
and the rows of a DataFrame as dicts, quickly.

Example:
    >>> text_of([{"type": "text", "text": "a"}, {"type": "image_url"},
    ...          {"type": "text", "text": "b"}])
    'a\\nb'
    >>> estimate_tokens("abcdefgh"), estimate_tokens("abc")
    (2, 1)
    >>> import pandas as pd
    >>> records(pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}))
    [{'a': 1, 'b': 'x'}, {'a': 2, 'b': 'y'}]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, cast

import pandas as pd

__all__ = ["CHARS_PER_TOKEN", "estimate_tokens", "records", "text_length", "text_of"]

#: Characters per token of the estimate used wherever no tokenizer is given.
CHARS_PER_TOKEN: Final[int] = 4


def text_of(content: Any, sep: str = "\n") -> str:
    """The text of a message content: the string, or its text parts joined by ``sep``.

    Non-text parts (images, audio) contribute nothing; anything else is ``""``.
    """
    if isinstance(content, str):
        return content
    if hasattr(content, "tolist") and not isinstance(content, Mapping):
        content = content.tolist()  # numpy arrays of parts, as Parquet gives them
    if isinstance(content, list):
        return sep.join(
            p["text"] for p in content if isinstance(p, Mapping) and isinstance(p.get("text"), str)
        )
    return ""


def text_length(content: Any) -> int:
    """Characters of text in a content (parts counted without separators)."""
    if isinstance(content, str):
        return len(content)
    return len(text_of(content, ""))


def estimate_tokens(text: str) -> int:
    """Tokens in ``text`` by the characters / 4 estimate, rounded up."""
    return (len(text) + CHARS_PER_TOKEN - 1) // CHARS_PER_TOKEN


def records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of ``df`` as dicts keyed by column name (as ``str``).

    Column-wise ``tolist()`` is several times faster than ``to_dict("records")`` on Arrow
    strings.
    """
    if df.columns.has_duplicates:
        return cast("list[dict[str, Any]]", df.to_dict("records"))
    columns = [str(c) for c in df.columns]
    data = [df[c].tolist() for c in df.columns]
    return [dict(zip(columns, values, strict=True)) for values in zip(*data, strict=True)]
