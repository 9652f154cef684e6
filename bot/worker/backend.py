"""Where experiment runs happen: a thread with its own event loop, off the bot's loop.

The bot only ever waits on a future. This is EXPLAIN_BACKEND=local, the default; with
EXPLAIN_BACKEND=queue the runs go to `tutorbot worker` processes instead (bot/queue/).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from bot.worker.runner import ProgressCallback, RunResult, run_experiment

log = logging.getLogger(__name__)
T = TypeVar("T")


class RealClockLoop(asyncio.SelectorEventLoop):
    """Run time limits are real seconds, even where a test harness moves the bot's clock
    (simcord patches time.monotonic, which event loops read; perf_counter it leaves alone)."""

    def time(self) -> float:
        return time.perf_counter()


class LoopThread:
    """An event loop on a daemon thread of its own, started on first use; its clock counts
    real seconds. What runs there is off the bot's loop: the bot only waits on futures."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, work: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        with self._lock:
            if self._loop is None:
                self._loop = RealClockLoop()
                self._thread = threading.Thread(target=self._loop.run_forever, name=self.name,
                                                daemon=True)
                self._thread.start()
            return asyncio.run_coroutine_threadsafe(work, self._loop)

    @property
    def started(self) -> bool:
        return self._loop is not None

    def stop(self) -> None:
        """Cancels what still runs there (a run's cleanup kills its child), then ends the
        thread; blocking, so async callers run it in a thread."""
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or thread is None:
            return
        for task in asyncio.all_tasks(loop):
            loop.call_soon_threadsafe(task.cancel)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        if not thread.is_alive():
            loop.close()


class ThreadBackend:
    """Runs experiments one at a time (they use every core) on a private event loop."""

    def __init__(self, concurrency: int = 1) -> None:
        self.concurrency = concurrency
        self._thread = LoopThread("explain-worker")
        self._slots: asyncio.Semaphore | None = None

    def submit(self, script: Path, params: dict[str, Any], *, on_progress: ProgressCallback,
               **options: Any) -> concurrent.futures.Future[RunResult]:
        return self._thread.submit(self._run(script, params, on_progress, options))

    async def _run(self, script: Path, params: dict[str, Any], on_progress: ProgressCallback,
                   options: dict[str, Any]) -> RunResult:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.concurrency)
        async with self._slots:
            return await run_experiment(script, params, on_progress=on_progress, **options)

    def close(self) -> None:
        self._thread.stop()
