"""Durability and concurrency of the label store, with real processes and real SIGKILLs."""

from __future__ import annotations

import itertools
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from prefnb.labels import LabelStore

# Records labels forever, printing "<id> <pair_id>" only after record() has returned, which
# is the moment the Labeler shows its "saved" mark.
WRITER = textwrap.dedent(
    """
    import sys
    from prefnb.labels import LabelStore
    store = LabelStore(sys.argv[1])
    i = 0
    while True:
        pid = f"pair-{i:06d}"
        verdict = "ab"[i % 2]
        eid = store.record(pair_id=pid, annotator="al", kind="label", verdict=verdict,
                           shown="ba", note="n" * (i % 500))
        print(eid, pid, verdict, flush=True)
        i += 1
    """
)

# One of several concurrent writers: waits for a start file so all contend at once.
CONCURRENT = textwrap.dedent(
    """
    import os, random, sys, time
    from prefnb.labels import LabelStore
    path, worker, n, go = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    store = LabelStore(path, timeout=60)
    print("ready", flush=True)
    while not os.path.exists(go):
        time.sleep(0.001)
    ids = []
    for i in range(n):
        time.sleep(random.random() * 0.002)  # think time, so writers interleave
        if i % 50 == 49:  # mix in batches: two events, one transaction
            ids += store.record_many([
                {"pair_id": f"{worker}-{i}", "annotator": worker, "kind": "label",
                 "verdict": "b"},
                {"pair_id": f"{worker}-{i}", "annotator": worker, "kind": "note",
                 "note": "batch"},
            ])
        else:
            ids.append(store.record(pair_id=f"{worker}-{i}", annotator=worker, kind="label",
                                    verdict="a", session=worker))
    store.close()
    print(" ".join(map(str, ids)))
    """
)


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    return env


@pytest.mark.parametrize("kill_after", [1, 150])
def test_every_label_printed_as_saved_survives_sigkill(tmp_path: Path, kill_after: int) -> None:
    path = tmp_path / "labels.sqlite"
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_child_env(),
    )
    saved: list[tuple[int, str, str]] = []
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 60
        while len(saved) < kill_after:
            line = proc.stdout.readline()
            assert line, f"writer died early: {proc.stderr.read() if proc.stderr else ''}"
            eid, pid, verdict = line.split()
            saved.append((int(eid), pid, verdict))
            assert time.monotonic() < deadline
        os.kill(proc.pid, signal.SIGKILL)  # mid-write: it is already in its next record()
        proc.wait(timeout=30)
        # Lines printed between our last read and the kill were saved too.
        for line in proc.stdout.read().splitlines():
            eid, pid, verdict = line.split()
            saved.append((int(eid), pid, verdict))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL

    with LabelStore(path) as store:
        events = store.events()
        current = store.current("al").set_index("pair_id")
        labeled = store.labeled_pair_ids("al")
    stored = dict(
        zip(events["id"], zip(events["pair_id"], events["verdict"], strict=True), strict=True)
    )
    for eid, pid, verdict in saved:
        assert stored.get(eid) == (pid, verdict), f"saved label {eid} {pid} was lost"
        assert current.loc[pid, "label"] == verdict
    assert {pid for _, pid, _ in saved} <= labeled
    # At most the one in-flight label may exist beyond what was printed.
    assert len(events) - len(saved) in (0, 1)
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()


@pytest.mark.slow  # four interpreters importing pandas: seconds on a loaded machine
def test_concurrent_writers_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "labels.sqlite"
    go = tmp_path / "go"
    workers, n = 4, 200
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CONCURRENT, str(path), f"w{k}", str(n), str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_child_env(),
        )
        for k in range(workers)
    ]
    for proc in procs:  # start only when every writer has imported and opened the store
        assert proc.stdout is not None
        if proc.stdout.readline().strip() != "ready":
            _, err = proc.communicate(timeout=60)
            pytest.fail(f"writer exited before opening the store: {err}")
    go.touch()
    reported: list[list[int]] = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert "locked" not in err
        reported.append([int(x) for x in out.split()])

    per_worker_events = n + n // 50  # each batch adds a note event
    assert [len(ids) for ids in reported] == [per_worker_events] * workers
    with LabelStore(path) as store:
        events = store.events()
        current = store.current()
    all_ids = [i for ids in reported for i in ids]
    assert sorted(all_ids) == events["id"].tolist()  # every reported id, and nothing else
    assert len(set(all_ids)) == len(all_ids)
    assert len(current) == workers * n
    for k in range(workers):
        mine = current[current["annotator"] == f"w{k}"]
        assert len(mine) == n
        assert (mine["note"] == "batch").sum() == n // 50
    # The writers really interleaved (each switch is a lock handed to another process).
    owners = events["annotator"].tolist()
    assert sum(a != b for a, b in itertools.pairwise(owners)) > 20
    # Within one worker, ids increase: its own events keep their order.
    for ids in reported:
        assert ids == sorted(ids)


def test_one_store_shared_by_threads(tmp_path: Path) -> None:
    errors: list[BaseException] = []
    with LabelStore(tmp_path / "labels.sqlite") as store:

        def work(k: int) -> None:
            try:
                for i in range(50):
                    store.record(pair_id=f"t{k}-{i}", annotator=f"t{k}", kind="label", verdict="a")
                    store.labeled_pair_ids(f"t{k}")
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert len(store.events()) == 200
        assert len(store.current()) == 200
