"""Run a refresh callback periodically without blocking the kernel.

Inside a Jupyter kernel (whose asyncio loop runs between cells) the loop is an asyncio task:
the blocking fetch runs in a worker thread and the figure is updated back on the kernel's own
thread, between cells, so widget messages never race the kernel. Elsewhere (scripts, tests) a
daemon thread does the same. ``tick`` returns False to stop (e.g. all jobs finished).

Example:
    >>> import time
    >>> calls = []
    >>> loop = LiveLoop(fetch=lambda: None, apply=lambda _: len(calls) < 2 and not calls.append(1),
    ...                 interval=0.01)
    >>> loop.start(); loop.join(5); len(calls), loop.running
    (2, False)
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["LiveLoop"]


def _kernel_loop() -> asyncio.AbstractEventLoop | None:
    """The running asyncio loop if this is a Jupyter kernel's main thread, else None.

    Only a kernel's loop is sure to keep turning between cells; another library's loop (e.g.
    Playwright's sync API in the same process) may be "running" but idle, and a task parked on
    it would never tick.
    """
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return None
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    shell = get_ipython()
    return loop if shell is not None and getattr(shell, "kernel", None) is not None else None


class LiveLoop:
    """Call ``fetch()`` (may block; runs off the kernel thread) then ``apply(result)`` (updates
    widgets; runs on the loop thread) every ``interval`` seconds until ``apply`` returns False
    or ``stop()`` is called. A failing ``fetch`` (network blip) is retried on the next tick;
    after ``max_failures`` failures in a row, or if ``apply`` raises, the loop stops. The last
    error is kept in ``.error``."""

    def __init__(
        self,
        fetch: Callable[[], Any],
        apply: Callable[[Any], bool],
        interval: float = 5.0,
        max_failures: int = 5,
    ) -> None:
        self.fetch = fetch
        self.apply = apply
        self.interval = float(interval)
        self.max_failures = int(max_failures)
        self.failures = 0  # consecutive failed fetches
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._task: asyncio.Task[None] | None = None
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        if self._task is not None:
            return not self._task.done()
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start polling (no-op if already running)."""
        if self.running:
            return
        self._stop.clear()
        loop = _kernel_loop()
        if loop is not None:
            self._task = loop.create_task(self._run_async())
        else:
            self._thread = threading.Thread(
                target=self._run_thread, daemon=True, name="prefnb-live"
            )
            self._thread.start()

    def stop(self) -> None:
        """Stop after the current tick."""
        self._stop.set()
        if self._task is not None:
            self._task.cancel()

    def join(self, timeout: float | None = None) -> None:
        """Wait for a thread-mode loop to end (asyncio mode: returns at once)."""
        if self._thread is not None:
            self._thread.join(timeout)

    def _tick(self, data: Any) -> bool:
        try:
            return bool(self.apply(data))
        except (
            Exception
        ) as e:  # kept for the user to inspect; a live chart must not kill the kernel
            self.error = e
            return False

    def _failed(self, e: Exception) -> bool:
        """Record a failed fetch; True when the loop should give up."""
        self.error = e
        self.failures += 1
        return self.failures >= self.max_failures

    def _run_thread(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.fetch()
            except Exception as e:
                if self._failed(e):
                    return
                self._stop.wait(self.interval)
                continue
            self.failures = 0
            if not self._tick(data):
                return
            self._stop.wait(self.interval)

    async def _run_async(self) -> None:
        loop = asyncio.get_running_loop()
        with contextlib.suppress(asyncio.CancelledError):
            while not self._stop.is_set():
                try:
                    data = await loop.run_in_executor(None, self.fetch)
                except Exception as e:
                    if self._failed(e):
                        return
                    await asyncio.sleep(self.interval)
                    continue
                self.failures = 0
                if not self._tick(data):
                    return
                await asyncio.sleep(self.interval)
