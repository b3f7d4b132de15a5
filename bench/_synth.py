"""Synthetic text and preference JSONL for the benchmarks (shared by every bench/*.py)."""

from __future__ import annotations

import json
import random
from pathlib import Path

WORK = Path(__file__).resolve().parent / "_work"

_WORDS = [
    "the",
    "model",
    "answer",
    "gives",
    "a",
    "clear",
    "step",
    "by",
    "step",
    "explanation",
    "of",
    "why",
    "this",
    "works",
    "and",
    "where",
    "it",
    "fails",
    "including",
    "code",
    "`x",
    "=",
    "f(y)`",
    "edge",
    "cases",
    "numbers",
    "42",
    "3.14",
    "and",
    "a",
    "list:",
    "first,",
    "second,",
    "third;",
    "finally",
    "a",
    "short",
    "summary",
    "with",
    "caveats",
]
# Mostly ASCII like most real data, with some non-ASCII words and escaped quotes/newlines.
_RARE = ("café", "naïve", "日本語", '"quoted"', "line\nbreak", '{"k": 1}')


def text(rng: random.Random, n_words: int) -> str:
    words = [rng.choice(_WORDS) for _ in range(n_words)]
    if rng.random() < 0.2:
        words[rng.randrange(n_words)] = rng.choice(_RARE)
    return " ".join(words)


def paragraphs(rng: random.Random, body: str) -> str:
    """``body`` cut into lines and paragraphs, as model answers are (escaped ``\\n`` in JSON)."""
    words = body.split(" ")
    for i in range(8, len(words), 12):
        words[i] += "\n\n" if rng.random() < 0.3 else "\n"
    return " ".join(words)


def make_file(path: Path, target_bytes: int, seed: int = 0, *, breaks: bool = False) -> Path:
    """Write realistic preference lines (system + multi-turn prompts, ~1-3 KB) until target.

    ``breaks`` cuts the two answers into lines and paragraphs (text full of escapes).
    """
    if path.exists() and path.stat().st_size >= target_bytes:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    tmp = path.with_suffix(".tmp")
    written = 0
    with open(tmp, "w", encoding="utf-8") as fh:
        while written < target_bytes:
            messages = []
            if rng.random() < 0.3:
                messages.append({"role": "system", "content": text(rng, 12)})
            for _ in range(rng.choice((0, 0, 0, 1))):
                messages.append({"role": "user", "content": text(rng, 25)})
                messages.append({"role": "assistant", "content": text(rng, 60)})
            messages.append({"role": "user", "content": text(rng, rng.randint(10, 60))})
            good, bad = text(rng, rng.randint(60, 300)), text(rng, rng.randint(40, 250))
            if breaks:
                good, bad = paragraphs(rng, good), paragraphs(rng, bad)
            line = json.dumps(
                {
                    "input": {"messages": messages},
                    "preferred_output": [{"role": "assistant", "content": good}],
                    "non_preferred_output": [{"role": "assistant", "content": bad}],
                },
                ensure_ascii=False,
            )
            fh.write(line + "\n")
            written += len(line.encode()) + 1
    tmp.replace(path)
    return path
