"""Claims on both backends: quotas, order, leases, release, the disagreement boost, and
concurrent claimers in separate processes that never over-assign a pair."""

from __future__ import annotations

import multiprocessing as mp
import time
from collections import Counter

import pytest

from prefnb.labels import LabelStore, LabelStoreError

IDS = [f"p{i:03d}" for i in range(30)]


def test_claims_follow_the_given_order_and_skip_what_is_labeled(any_store_target: str) -> None:
    with LabelStore(any_store_target) as s:
        s.record(pair_id="p001", annotator="al", kind="label", verdict="a")
        got = s.claim("al", IDS, overlap=1, limit=3)
        assert got == ["p000", "p002", "p003"]
        # Claiming again renews the same lease: idempotent, same pairs.
        assert s.claim("al", IDS, overlap=1, limit=3) == got
        assert sorted(s.claims("al")["pair_id"]) == got


def test_overlap_quota_counts_other_annotators(any_store_target: str) -> None:
    with LabelStore(any_store_target) as s:
        a = s.claim("al", IDS[:4], overlap=2, limit=4)
        b = s.claim("bo", IDS[:4], overlap=2, limit=4)
        c = s.claim("cy", IDS[:4], overlap=2, limit=4)
        assert a == b == IDS[:4]
        assert c == []  # every pair has its two annotators
        s.release("bo", IDS[:2])
        assert s.claim("cy", IDS[:4], overlap=2, limit=4) == IDS[:2]
        # A label counts like a claim: bo labels p002 and releases everything.
        s.record(pair_id="p002", annotator="bo", kind="label", verdict="a")
        assert s.release("bo") == 2
        assert s.claim("dee", IDS[:4], overlap=2, limit=4) == ["p003"]


def test_one_annotator_without_overlap_gets_the_frame_order(any_store_target: str) -> None:
    with LabelStore(any_store_target) as s:
        seen: list[str] = []
        while batch := s.claim("solo", IDS, overlap=1, limit=7):
            for pid in batch:
                s.record(pair_id=pid, annotator="solo", kind="label", verdict="b")
            seen += batch
        assert seen == IDS


def test_an_expired_lease_returns_the_pair_to_the_pool(any_store_target: str) -> None:
    with LabelStore(any_store_target) as s:
        assert s.claim("al", IDS[:2], overlap=1, limit=2, lease_s=0.3) == IDS[:2]
        assert s.claim("bo", IDS[:2], overlap=1, limit=2) == []
        time.sleep(0.5)
        assert s.claims("al").empty
        assert s.claim("bo", IDS[:2], overlap=1, limit=2) == IDS[:2]


def test_disagreement_boost_adds_one_annotator_up_to_the_cap(any_store_target: str) -> None:
    with LabelStore(any_store_target) as s:
        for who, verdict in (("al", "a"), ("bo", "b")):
            assert s.claim(who, ["x", "y"], overlap=2, limit=2) == ["x", "y"]
            s.record(pair_id="x", annotator=who, kind="label", verdict=verdict)
            s.record(pair_id="y", annotator=who, kind="label", verdict="a")
        # x disagrees (a vs b): a third annotator; y agrees: none.
        assert s.claim("cy", ["x", "y"], overlap=2, limit=2) == ["x"]
        assert s.claim("dee", ["x", "y"], overlap=2, limit=2) == []
        assert s.claim("dee", ["x", "y"], overlap=2, limit=2, boost=2) == ["x"]
        assert s.claim("eve", ["x", "y"], overlap=2, limit=2, boost=0) == []
        dis = s.disagreements()
        assert set(dis["pair_id"]) == {"x"}
        assert sorted(dis["annotator"]) == ["al", "bo"]


def test_bad_claim_arguments_name_the_field(any_store_target: str) -> None:
    with LabelStore(any_store_target) as s:
        for kwargs, field in (
            ({"overlap": 0}, "overlap"),
            ({"limit": 0}, "limit"),
            ({"lease_s": -1}, "lease_s"),
            ({"boost": -1}, "boost"),
        ):
            with pytest.raises(LabelStoreError, match=field) as err:
                s.claim("al", IDS, **kwargs)  # type: ignore[arg-type]
            assert err.value.field == field
        with pytest.raises(LabelStoreError, match="annotator"):
            s.claim(" al", IDS)


def _claimer(target: str, who: str, start: mp.synchronize.Event, out: mp.Queue) -> None:  # type: ignore[type-arg]
    got: list[str] = []
    with LabelStore(target, timeout=30) as s:
        start.wait()
        while batch := s.claim(who, IDS, overlap=2, limit=3):
            for pid in batch:
                s.record(pair_id=pid, annotator=who, kind="label", verdict="a")
            got += batch
    out.put((who, got))


@pytest.mark.slow
def test_concurrent_claimers_never_over_assign(any_store_target: str) -> None:
    ctx = mp.get_context("spawn")
    start, out = ctx.Event(), ctx.Queue()
    names = [f"ann{i}" for i in range(6)]
    procs = [ctx.Process(target=_claimer, args=(any_store_target, n, start, out)) for n in names]
    for p in procs:
        p.start()
    time.sleep(1.5)  # let every process import and connect, then release them at once
    start.set()
    results = dict(out.get(timeout=120) for _ in procs)
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    per_pair = Counter(pid for got in results.values() for pid in got)
    assert all(n <= 2 for n in per_pair.values()), per_pair
    assert set(per_pair) == set(IDS)  # and nothing is left unassigned
    assert all(n == 2 for n in per_pair.values())
    with LabelStore(any_store_target) as s:
        cur = s.current()
        assert len(cur) == 2 * len(IDS)
        assert cur.groupby("pair_id")["annotator"].nunique().max() == 2
