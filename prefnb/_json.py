"""The one place prefnb picks its JSON library, so switching library is a one-line edit.

Example:
    >>> dumps({"a": [1, "é"]})
    b'{"a":[1,"\\xc3\\xa9"]}'
    >>> loads(b'{"a": 1}')
    {'a': 1}
"""

from __future__ import annotations

from typing import Any

import msgspec

__all__ = ["JSONDecodeError", "dumps", "loads"]

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder()

#: Raised by :func:`loads` on malformed input (a ``ValueError`` subclass).
JSONDecodeError = msgspec.DecodeError


def dumps(obj: Any) -> bytes:
    """Compact UTF-8 JSON (non-ASCII characters are written as-is, not escaped)."""
    return _encoder.encode(obj)


def loads(data: bytes | str) -> Any:
    """Parse one JSON document; raises :data:`JSONDecodeError` on malformed input."""
    return _decoder.decode(data)
