"""Types of the C module compiled from _scan.c (see prefnb/validation/scan.py)."""

from typing_extensions import Buffer

#: 1 when counts() reads 16 bytes at a time (SSE2); 0 when it reads byte by byte
SIMD: int

def counts(data: Buffer, /) -> tuple[int, int, int, bool, int]: ...
def text_stats(
    preferred: list[str], rejected: list[str], /
) -> tuple[bytes, bytes, list[int], list[int], list[int]]: ...
