"""Types of the C module compiled from _scan.c (see prefnb/validation/scan.py)."""

from typing_extensions import Buffer

def counts(data: Buffer, /) -> tuple[int, int, int, bool, int]: ...
def text_stats(
    preferred: list[str], rejected: list[str], /
) -> tuple[bytes, bytes, list[int], list[int], list[int]]: ...
