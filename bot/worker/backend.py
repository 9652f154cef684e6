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
from pathlib import Path
from typing import Any

from bot.worker.runner import ProgressCallback, RunResult, run_experiment

log = logging.getLogger(__name__)


class RealClockLoop(asyncio.SelectorEventLoop):
    """Run time limits are real seconds, even where a test harness moves the bot's clock
    (simcord patches time.monotonic, which event loops read; perf_counter it leaves alone)."""

    def time(self) -> float:
        return time.perf_counter()


class ThreadBackend:
    """Runs experiments one at a time (they use every core) on a private event loop."""

    def __init__(self, concurrency: int = 1) -> None:
        self.concurrency = concurrency
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._slots: asyncio.Semaphore | None = None
        self._lock = threading.Lock()

    def _ensure_started(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = RealClockLoop()
                self._thread = threading.Thread(target=loop.run_forever, name="explain-worker",
                                                daemon=True)
                self._thread.start()
                self._loop = loop
            return self._loop

    def submit(self, script: Path, params: dict[str, Any], *, on_progress: ProgressCallback,
               **options: Any) -> concurrent.futures.Future[RunResult]:
        loop = self._ensure_started()
        return asyncio.run_coroutine_threadsafe(
            self._run(script, params, on_progress, options), loop)

    async def _run(self, script: Path, params: dict[str, Any], on_progress: ProgressCallback,
                   options: dict[str, Any]) -> RunResult:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.concurrency)
        async with self._slots:
            return await run_experiment(script, params, on_progress=on_progress, **options)

    def close(self) -> None:
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or thread is None:
            return
        for task in asyncio.all_tasks(loop):
            loop.call_soon_threadsafe(task.cancel)  # a run's cleanup kills its child
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        if not thread.is_alive():
            loop.close()
