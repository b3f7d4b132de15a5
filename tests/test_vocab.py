"""Each vocabulary is defined once, in prefnb.vocab: the modules that use it import it."""

from __future__ import annotations

from typing import get_args

from prefnb import pairs, vocab
from prefnb.labeler import messages
from prefnb.labels import events


def test_every_user_of_a_vocabulary_takes_it_from_vocab() -> None:
    assert pairs.LABELS is vocab.VERDICTS
    assert pairs.STRENGTHS is vocab.STRENGTHS
    assert events.VERDICTS is vocab.VERDICTS
    assert events.STRENGTHS is vocab.STRENGTHS
    assert events.KINDS is vocab.KINDS
    assert events.SHOWN is vocab.SHOWN
    assert messages.Verdict is vocab.Verdict
    assert messages.Strength is vocab.Strength
    assert messages.Shown is vocab.Shown


def test_tuples_follow_their_literal_types() -> None:
    assert get_args(vocab.Verdict) == vocab.VERDICTS
    assert set(vocab.VERDICT_NAMES) == set(vocab.VERDICTS)
    assert vocab.KINDS == ("label", "undo", "edit", "note", "audit")
