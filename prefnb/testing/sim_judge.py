"""LocalTogether's simulated LLM judge: position bias, length bias and noise as parameters.

The simulated judge compares two responses to a prompt, shown in an order (first, second),
and answers ``"A"`` (the first shown), ``"B"`` (the second) or ``"Tie"`` (identical texts).
Each verdict is decided by one mechanism, tried in this order with its own probability:

==============  ====================================================================
mechanism       verdict
==============  ====================================================================
``position``    ``position_bias`` > 0: the first shown; < 0: the second (|p| of the time)
``length``      the longer response (``length_bias`` of the remaining verdicts)
``noise``       a coin flip (``noise`` of the remaining verdicts)
``truth``       the truly better response
==============  ====================================================================

So with balanced truth, P(prefers the first shown) = 0.5 + position_bias / 2.

Draws are a hash of (seed, mechanism, prompt, first, second), not a random stream: the same
request always gets the same verdict, whichever API asks (chat completions or an evaluation
job) and in whatever order requests arrive. The two orders of one pair are independent draws,
so they disagree whenever a bias decides one of them differently.

The "truth" of a pair is what :meth:`SimJudge.teach` was told (a DataFrame with a ``label``
column, ``a`` or ``b``); for pairs it was not told about, the response with the larger
content hash is the better one. :attr:`SimJudge.log` records every verdict with its
mechanism, so tests can compare routing against what the judge really did.

Example:
    >>> j = SimJudge(position_bias=1.0)
    >>> j.decide("2+2?", "4", "5").choice, j.decide("2+2?", "5", "4").choice
    ('A', 'A')
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["JUDGE_INPUT_KEYS", "Decision", "SimJudge", "read_judge_input"]

Choice = Literal["A", "B", "Tie"]

#: Keys of the JSON object a judge request's last user message must be for the simulated
#: judge to find the prompt and the two responses (what ``prefnb.judge`` sends).
JUDGE_INPUT_KEYS = ("prompt", "response_A", "response_B")


def _uniform(*parts: str) -> float:
    h = hashlib.blake2b("\x1f".join(parts).encode(), digest_size=8).digest()
    return int.from_bytes(h, "big") / 2.0**64


def _sha(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


@dataclass(frozen=True)
class Decision:
    """One simulated verdict: ``choice`` names a shown position (A = first shown)."""

    prompt_sha: str
    first_sha: str
    second_sha: str
    choice: Choice
    mechanism: str
    feedback: str


@dataclass
class SimJudge:
    """A simulated judge (see the module docstring). Thread-safe; ``log`` grows per verdict."""

    position_bias: float = 0.0
    length_bias: float = 0.0
    noise: float = 0.0
    invalid: float = 0.0
    echo_forgeries: bool = False
    seed: int = 0
    log: list[Decision] = field(default_factory=list)
    _truth: dict[tuple[str, str], float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if not -1.0 <= self.position_bias <= 1.0:
            raise ValueError(f"position_bias must be in [-1, 1], got {self.position_bias!r}")
        for name in ("length_bias", "noise", "invalid"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {value!r}")

    @classmethod
    def from_options(cls, options: Mapping[str, Any] | None) -> SimJudge:
        """A judge from ``LocalTogether(judge={...})`` options; unknown keys are an error."""
        known = {"position_bias", "length_bias", "noise", "invalid", "echo_forgeries", "seed"}
        opts = dict(options or {})
        unknown = sorted(set(opts) - known)
        if unknown:
            raise ValueError(
                f"LocalTogether(judge=...): unknown option(s) {', '.join(unknown)}; "
                f"expected some of {', '.join(sorted(known))}"
            )
        return cls(**opts)

    def teach(self, df: Any, column: str = "label") -> int:
        """Tell the judge the true better response of each row of ``df`` (``column`` is
        ``a`` or ``b``; other values are skipped). Returns how many pairs it learnt."""
        from prefnb.judge.prompt import prompt_text  # what prefnb sends as the prompt
        from prefnb.pairs import normalize_prompt

        n = 0
        for raw_prompt, ra, rb, lab in zip(
            df["prompt"], df["response_a"], df["response_b"], df[column], strict=True
        ):
            if lab not in ("a", "b"):
                continue
            prompt = prompt_text(normalize_prompt(raw_prompt))
            better, worse = (ra, rb) if lab == "a" else (rb, ra)
            self._truth[(_sha(str(prompt)), _sha(str(better)))] = 1.0
            self._truth[(_sha(str(prompt)), _sha(str(worse)))] = 0.0
            n += 1
        return n

    def know(self, prompt: str, text: str, quality: float) -> None:
        """Remember the hidden quality of a simulated model's answer ``text`` to ``prompt``
        (higher is better), so verdicts on generated pairs follow the models' skill."""
        with self._lock:
            self._truth[(_sha(prompt), _sha(text))] = float(quality)

    def _quality(self, prompt_sha: str, text_sha: str) -> float:
        known = self._truth.get((prompt_sha, text_sha))
        return known if known is not None else int(text_sha[:12], 16) / 16.0**12

    def decide(self, prompt: str, first: str, second: str) -> Decision:
        """The verdict on ``first`` vs ``second`` (as shown), logged."""
        ps, fs, ss = _sha(prompt), _sha(first), _sha(second)
        key = (str(self.seed), prompt, first, second)
        choice: Choice
        if first == second:
            choice, mech = "Tie", "identical"
        elif _uniform("position", *key) < abs(self.position_bias):
            choice, mech = ("A" if self.position_bias > 0 else "B"), "position"
        elif _uniform("length", *key) < self.length_bias and len(first) != len(second):
            choice, mech = ("A" if len(first) > len(second) else "B"), "length"
        elif _uniform("noise", *key) < self.noise:
            choice, mech = ("A" if _uniform("coin", *key) < 0.5 else "B"), "noise"
        else:
            qa, qb = self._quality(ps, fs), self._quality(ps, ss)
            choice, mech = ("A" if qa >= qb else "B"), "truth"
        feedback = {
            "identical": "Both responses are identical.",
            "position": f"Response {choice} reads well and answers the question.",
            "length": f"Response {choice} is more detailed.",
            "noise": f"Response {choice} seems slightly better.",
            "truth": f"Response {choice} is more accurate and more helpful.",
        }[mech]
        decision = Decision(ps, fs, ss, choice, mech, feedback)
        with self._lock:
            self.log.append(decision)
        return decision

    def answer(self, prompt: str, first: str, second: str) -> str:
        """The judge's raw output text: a JSON verdict, or (``invalid`` of the time) prose."""
        d = self.decide(prompt, first, second)
        if _uniform("invalid", str(self.seed), prompt, first, second) < self.invalid:
            return f"Both have merits, but I lean towards response {d.choice}."
        verdict = json.dumps({"feedback": d.feedback, "choice": d.choice})
        if self.echo_forgeries and '"choice"' in first + second:
            # A gullible judge quotes a verdict planted in a response before its own.
            planted = first if '"choice"' in first else second
            return f"One response says: {planted}\nMy verdict: {verdict}"
        return verdict

    def orders_disagree(self) -> set[tuple[str, str, str]]:
        """(prompt, response_a, response_b) content hashes, as unordered-response keys, of
        pairs whose two logged orders named different responses."""
        seen: dict[tuple[str, str, str], set[str]] = {}
        for d in list(self.log):
            winner = {"A": d.first_sha, "B": d.second_sha}.get(d.choice, "tie")
            pair = (d.prompt_sha, *sorted((d.first_sha, d.second_sha)))
            seen.setdefault((pair[0], pair[1], pair[2]), set()).add(winner)
        return {k for k, winners in seen.items() if len(winners) > 1}


def read_judge_input(messages: Any) -> tuple[str, str, str] | None:
    """(prompt, first, second) from a chat request's last user message, if it is the JSON
    object :data:`JUDGE_INPUT_KEYS` describes; else None."""
    if not isinstance(messages, list):
        return None
    for msg in reversed(messages):
        if isinstance(msg, dict) and msg.get("role") == "user":
            content = msg.get("content")
            if not isinstance(content, str):
                return None
            try:
                obj = json.loads(content)
            except ValueError:
                return None
            if isinstance(obj, dict) and all(isinstance(obj.get(k), str) for k in JUDGE_INPUT_KEYS):
                return obj["prompt"], obj["response_A"], obj["response_B"]
            return None
    return None
