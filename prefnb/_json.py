"""The one place prefnb picks its JSON library and decides which JSON it accepts.

Reader and validator accept exactly the same JSON: what Python's ``json`` module reads
(the parser together 1.5.34 uses), which is more than strict JSON: ``NaN``, ``Infinity``,
numbers too big for a float (``1e400`` → ``inf``) and lone UTF-16 surrogate escapes
(``"\\ud800"``). msgspec decodes the common, strict case fast; :func:`loads_tolerant` falls
back to ``json`` only for the lines msgspec refuses, and :func:`lone_surrogate` finds the one
thing Python accepts but cannot store as UTF-8 text.

Example:
    >>> dumps({"a": [1, "é"]})
    b'{"a":[1,"\\xc3\\xa9"]}'
    >>> loads(b'{"a": 1}')
    {'a': 1}
    >>> loads_tolerant(b'{"score": NaN, "big": 1e400}')
    {'score': nan, 'big': inf}
    >>> lone_surrogate({"a": [{"content": "ok"}, {"content": "x\\ud800"}]})
    'a[1].content'
"""

from __future__ import annotations

import json
import re
from typing import Any

import msgspec

__all__ = ["JSONDecodeError", "dumps", "loads", "loads_tolerant", "lone_surrogate"]

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder()

#: Raised by :func:`loads` on malformed input (a ``ValueError`` subclass).
JSONDecodeError = msgspec.DecodeError

_SURROGATE = re.compile("[\ud800-\udfff]")


def dumps(obj: Any) -> bytes:
    """Compact UTF-8 JSON (non-ASCII characters are written as-is, not escaped)."""
    return _encoder.encode(obj)


def loads(data: bytes | str) -> Any:
    """Parse one strict JSON document; raises :data:`JSONDecodeError` on malformed input."""
    return _decoder.decode(data)


def _constant(name: str) -> float:
    return float(name)


def loads_tolerant(data: bytes | str) -> Any:
    """Parse one JSON document the way Python's ``json`` (and Together's check) does.

    Raises ``ValueError`` (``json.JSONDecodeError``) on malformed JSON and
    ``UnicodeDecodeError`` on bytes that are not UTF-8.
    """
    try:
        return _decoder.decode(data)
    except (msgspec.DecodeError, msgspec.ValidationError):
        pass  # NaN, Infinity, 1e400, a lone surrogate, or really malformed: json decides
    if isinstance(data, bytes):
        data = data.decode("utf-8")  # raises UnicodeDecodeError with the byte offset
    return json.loads(data, parse_constant=_constant)


def lone_surrogate(value: Any, path: str = "") -> str | None:
    """JSON path of the first string (or key) in ``value`` holding a lone surrogate, or None."""
    if isinstance(value, str):
        return path if _SURROGATE.search(value) else None
    if isinstance(value, dict):
        for k, v in value.items():
            sub = f"{path}.{k}" if path else str(k)
            if isinstance(k, str) and _SURROGATE.search(k):
                return sub
            found = lone_surrogate(v, sub)
            if found is not None:
                return found
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found = lone_surrogate(v, f"{path}[{i}]")
            if found is not None:
                return found
    return None
