"""The bot's side of the queue: the Explainer's runs, done by `tutorbot worker` processes.

The job row decides who enqueues (one INSERT ... ON CONFLICT for any number of bot
processes); every waiter polls the row for progress and the end. The queue may lose a job
(a worker killed mid-run: the engine hands its message on only late), so the bot keeps its
own deadline: a job unfinished by then is re-kicked, and after a few tries failed with a
message a member can read.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import time
from collections.abc import Callable

from taskiq_redis import RedisStreamBroker

from bot.config import Config
from bot.queue.broker import (
    JobMessage,
    make_broker,
    rekick_after,
    send,
)
from bot.store.explanations import (
    ACTIVE,
    ExplanationCache,
    ExplanationJob,
    ExplanationJobs,
    StoredExplanation,
)
from bot.worker.backend import LoopThread
from bot.worker.explainer import ProgressReport, RunRequest
from bot.worker.runner import ExperimentError

log = logging.getLogger(__name__)
POLL_S = 0.25  # one indexed read per job in flight, not per waiter
MAX_ATTEMPTS = 3
UNREACHABLE = "The explanation queue cannot be reached right now; try again in a few minutes."


def _hand_over(done: concurrent.futures.Future[StoredExplanation],
               result: asyncio.Future[StoredExplanation]) -> None:
    """Copies the end of the wait (on its thread) into the bot loop's future."""
    if result.done():
        return
    if done.cancelled():
        result.cancel()
    elif (error := done.exception()) is not None:
        result.set_exception(error)
    else:
        result.set_result(done.result())


def gave_up(attempts: int) -> str:
    return (f"No explanation worker finished this run after {attempts} tries (they may be "
            "down or very busy); try again later.")


class QueueRuns:
    """The Explainer's Runs when EXPLAIN_BACKEND=queue: results arrive in the cache."""

    def __init__(self, jobs: ExplanationJobs, cache: ExplanationCache,
                 broker: RedisStreamBroker, *, size: str, timeout_s: float,
                 margin_s: float | None = None, max_attempts: int = MAX_ATTEMPTS,
                 poll_s: float = POLL_S, clock: Callable[[], float] = time.time) -> None:
        self.jobs, self.cache, self.broker = jobs, cache, broker
        self.size, self.max_attempts, self.poll_s = size, max_attempts, poll_s
        self.deadline_s = rekick_after(timeout_s, margin_s)
        # Wall time, not the bot's clock: the rows are shared with workers on other machines.
        self.clock = clock
        self._started = False
        # The waits on job rows: tasks of a loop on a thread of their own (start()).
        self._waiting: set[asyncio.Task[StoredExplanation]] = set()
        self._thread = LoopThread("explain-queue")

    @classmethod
    def from_config(cls, config: Config, cache: ExplanationCache,
                    jobs: ExplanationJobs) -> QueueRuns:
        broker = make_broker(config.redis_url, config.worker_timeout_s)
        return cls(jobs, cache, broker, size=config.worker_size,
                   timeout_s=config.worker_timeout_s)

    def start(self, request: RunRequest,
              report: ProgressReport) -> asyncio.Future[StoredExplanation]:
        """The wait on the job row runs on a thread of its own, as a local run does: the bot's
        loop only holds a future that the end of the job resolves, so nothing of the bot's
        polls (and a test harness can tell this wait from the bot's own work)."""
        loop = asyncio.get_running_loop()
        result: asyncio.Future[StoredExplanation] = loop.create_future()
        waiting = self._thread.submit(self._tracked(request, report))
        waiting.add_done_callback(
            lambda done: loop.call_soon_threadsafe(_hand_over, done, result))
        return result

    async def _tracked(self, request: RunRequest, report: ProgressReport) -> StoredExplanation:
        waiting = asyncio.current_task()
        assert waiting is not None
        self._waiting.add(waiting)
        try:
            return await self.run(request, report)
        finally:
            self._waiting.discard(waiting)

    async def run(self, request: RunRequest, report: ProgressReport) -> StoredExplanation:
        """Enqueues the job unless someone has, then waits on its row for the result."""
        await self._ask(request)
        while True:
            job = await self.jobs.get(request.key)
            stored = await self._settle(request, job, report)
            if stored is not None:
                return stored
            await asyncio.sleep(self.poll_s)

    async def joinable(self, key: str) -> bool:
        job = await self.jobs.get(key)
        return job is not None and job.state in ACTIVE

    async def busy(self) -> int:
        return await self.jobs.active_count(self.clock())

    async def close(self) -> None:
        """Stops waiting; the jobs go on, their rows keep the deadline for other bots."""
        if not self._thread.started:
            return
        await asyncio.wrap_future(self._thread.submit(self._stop_waiting()))
        await asyncio.to_thread(self._thread.stop)

    async def _stop_waiting(self) -> None:
        for waiting in list(self._waiting):
            waiting.cancel()
        await asyncio.gather(*self._waiting, return_exceptions=True)
        await self.broker.shutdown()

    async def _ask(self, request: RunRequest) -> None:
        """Enqueues the job if no one has: the row's insert (or revival) decides."""
        now = self.clock()
        if await self.jobs.request(request.key, request.problem_id, now, now + self.deadline_s):
            await self._send(request, attempt=1)

    async def _settle(self, request: RunRequest, job: ExplanationJob | None,
                      report: ProgressReport) -> StoredExplanation | None:
        """The result once the job is done; raises once it failed; else shows its progress
        and keeps its deadline."""
        if job is not None and job.state == "failed":
            raise ExperimentError(job.error or "The experiment failed.")
        if job is not None and job.state == "done":
            stored = await self.cache.get(request.key)
            if stored is not None:
                return stored
        if job is None or job.state == "done":  # the row or its result was removed meanwhile
            await self._ask(request)
            return None
        report(job.step, job.total, job.label)
        if self.clock() >= job.rekick_at:
            await self._rekick(request, job)
        return None

    async def _rekick(self, request: RunRequest, job: ExplanationJob) -> None:
        now = self.clock()
        outcome = await self.jobs.rekick(job, now, now + self.deadline_s, self.max_attempts,
                                         gave_up(job.attempts))
        if outcome == "queued":
            log.warning("explanation job %s re-kicked (attempt %d): %s at its deadline",
                        request.key[:12], job.attempts + 1,
                        f"running on {job.worker}" if job.worker else "still queued")
            await self._send(request, attempt=job.attempts + 1)
        elif outcome == "failed":
            log.warning("explanation job %s failed after %d attempts", request.key[:12],
                        job.attempts)

    async def _send(self, request: RunRequest, attempt: int) -> None:
        message = JobMessage(request.key, request.problem_id, request.fingerprint, self.size,
                             attempt)
        try:
            if not self._started:
                await self.broker.startup()  # declares the workers' group: nothing is lost
                self._started = True
            await send(self.broker, message)
        except Exception as exc:
            log.error("explanation job %s could not be enqueued: %s", request.key[:12], exc)
            await self.jobs.give_up(request.key, UNREACHABLE, self.clock())
            raise ExperimentError(UNREACHABLE) from exc
