"""The Labeler shows an LLM judge's verdict only as show_judge says, and filters routed pairs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from labeler_host import host

from prefnb.labeler import Labeler
from prefnb.pairs import pairs_frame

ROOT = ".prefnb-labeler"


def routed(n: int = 6) -> pd.DataFrame:
    df = pairs_frame(
        [
            {"prompt": f"q{i}?", "response_a": f"alpha {i}", "response_b": f"beta {i}"}
            for i in range(n)
        ]
    )
    df["route"] = ["human", "auto", "audit", "human", "auto", "human"][:n]
    df["judge_label"] = ["a", "b", "b", None, "a", "tie"][:n]
    df["judge_rationale"] = [f"<b>reason</b> {i}" for i in range(n)]
    return df


def test_items_carry_the_judge_unless_never(tmp_path: Path) -> None:
    lab = Labeler(routed(), store=tmp_path / "l.sqlite")
    assert lab.show_judge == "after"
    item = lab._window.item(0)
    assert item["judge"] == {"label": "a", "rationale": "<b>reason</b> 0", "route": "human"}
    assert lab._window.item(3)["judge"]["label"] is None  # type: ignore[index]
    assert lab._window.item(0, audit_shown="ba")["judge"] is None  # never on a swap-replay
    never = Labeler(routed(), store=tmp_path / "l.sqlite", show_judge="never")
    assert never._window.item(0)["judge"] is None
    plain = Labeler(routed().drop(columns=["judge_label"]), store=tmp_path / "l.sqlite")
    assert plain._window.item(0)["judge"] is None
    with pytest.raises(ValueError, match="show_judge"):
        Labeler(routed(), store=tmp_path / "l.sqlite", show_judge="sometimes")  # type: ignore[arg-type]


def test_routes_filter(tmp_path: Path) -> None:
    lab = Labeler(routed(), store=tmp_path / "l.sqlite", routes=("human", "audit"))
    assert lab.total == 4
    assert [lab._window.item(i)["judge"]["route"] for i in range(4)] == [  # type: ignore[index]
        "human", "audit", "human", "human",
    ]  # fmt: skip
    with pytest.raises(ValueError, match="route"):
        Labeler(routed().drop(columns=["route"]), store=tmp_path / "l.sqlite", routes=("human",))


def _line(page: Any) -> str:
    return str(page.locator(".pl-current").inner_text())


def _start(page: Any, tmp_path: Path, **kw: Any) -> Labeler:
    lab = Labeler(routed(), store=tmp_path / "l.sqlite", audit_rate=0.0, seed=3, **kw)
    host(page, lab)
    page.locator(f"{ROOT}[data-state]").wait_for()
    page.locator(ROOT).focus()
    return lab


@pytest.mark.browser
def test_after_reveals_the_verdict_only_once_the_person_voted(page: Any, tmp_path: Path) -> None:
    lab = _start(page, tmp_path)
    assert "judge" not in _line(page)
    page.keyboard.press("1")  # label pair 0 (left), which moves on
    page.wait_for_function("() => document.querySelector('.prefnb-labeler').dataset.pos === '1'")
    assert "judge" not in _line(page)  # pair 1: not voted yet
    page.keyboard.press("k")  # back to pair 0, now labeled
    page.wait_for_function(
        "() => document.querySelector('.pl-current').innerText.includes('judge')"
    )
    shown = lab._window.shown(lab._window.pair_id(0))
    side = "left" if shown[0] == "a" else "right"
    assert f"judge: {side} (<b>reason</b> 0)" in _line(page)  # text, never markup
    assert page.locator(".pl-current b").count() == 0
    page.screenshot(path=str(tmp_path / "judge_after.png"))


@pytest.mark.browser
def test_before_shows_it_at_once_and_never_not_at_all(page: Any, tmp_path: Path) -> None:
    _start(page, tmp_path, show_judge="before")
    page.wait_for_function(
        "() => document.querySelector('.pl-current').innerText.includes('judge')"
    )


@pytest.mark.browser
def test_never_does_not_show_it_even_after_voting(page: Any, tmp_path: Path) -> None:
    _start(page, tmp_path, show_judge="never")
    page.keyboard.press("1")
    page.wait_for_function("() => document.querySelector('.prefnb-labeler').dataset.pos === '1'")
    page.keyboard.press("k")
    page.wait_for_function(
        "() => document.querySelector('.pl-current').innerText.includes('your label')"
    )
    assert "judge" not in _line(page)
