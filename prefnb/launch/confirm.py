"""A two-button confirmation for irreversible account actions (deleting jobs and files).

In a notebook ``job.confirm_delete()`` shows the question with **Delete** and **Keep**;
nothing happens until Delete is clicked, and the result (or the error) replaces the buttons.

Example:
    >>> done = []
    >>> box = Confirm("Delete ft-1 from Together? This cannot be undone.", "Delete",
    ...               lambda: done.append(1) or "deleted")
    >>> box.yes.click()
    >>> done, box.status.value
    ([1], 'deleted')
"""

from __future__ import annotations

import html
from collections.abc import Callable

import ipywidgets as w

from prefnb.launch.errors import LaunchError

__all__ = ["Confirm"]


class Confirm(w.VBox):  # type: ignore[misc]
    """``question`` with a red ``verb`` button and Keep; ``action`` runs on the first click."""

    def __init__(self, question: str, verb: str, action: Callable[[], str]) -> None:
        self.question = w.HTML(f"<b>{html.escape(question)}</b>")
        self.yes = w.Button(description=verb, button_style="danger", icon="trash")
        self.no = w.Button(description="Keep", icon="times")
        self.status = w.Label(value="")
        self._action = action
        self.yes.on_click(lambda _: self._decide(True))
        self.no.on_click(lambda _: self._decide(False))
        super().__init__([self.question, w.HBox([self.yes, self.no]), self.status])

    def _decide(self, yes: bool) -> None:
        self.yes.disabled = self.no.disabled = True
        if not yes:
            self.status.value = "Kept; nothing was deleted."
            return
        try:
            self.status.value = self._action()
        except LaunchError as exc:
            self.status.value = str(exc)
