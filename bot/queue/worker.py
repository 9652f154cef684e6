"""The worker's side of the queue: one job at a time, each checked against its row.

A message may come twice (at-least-once delivery, a re-kick, a reclaimed message) or late:
only the worker whose claim turns the row from queued to running runs it. The experiment
runs in a spawned child with the usual limits (bot/worker/runner.py); this process never
imports torch either.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path

from taskiq.acks import AcknowledgeType
from taskiq.receiver import Receiver
from taskiq_redis import RedisStreamBroker

from bot.bank import Bank, Problem
from bot.queue.broker import TASK_NAME
from bot.store.explanations import ExplanationJob, ExplanationJobs
from bot.worker.explainer import detect_device, to_stored
from bot.worker.runner import (
    ExperimentError,
    ProgressCallback,
    RunResult,
    experiment_fingerprint,
    run_experiment,
)

log = logging.getLogger(__name__)
PROGRESS_EVERY_S = 0.5  # row updates while a run reports progress; the last step always


class JobRefused(ExperimentError):
    """This worker cannot run the job as the bot keyed it (other packs or code)."""


class JobWorker:
    def __init__(self, jobs: ExplanationJobs, bank: Bank, *, worker_id: str,
                 gpu: int | None = None, timeout_s: float = 120, memory_mb: int | None = 4096,
                 cache_dir: Path | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.jobs, self.bank, self.worker_id = jobs, bank, worker_id
        self.device = "cuda" if gpu is not None else detect_device()
        self.timeout_s, self.memory_mb, self.cache_dir = timeout_s, memory_mb, cache_dir
        self.clock = clock
        self._fingerprints: dict[Path, str] = {}
        self._current: asyncio.Task[str] | None = None
        self._stopping = False

    async def handle(self, cache_key: str, problem_id: str, fingerprint: str, size: str,
                     attempt: int) -> str:
        """The task the queue delivers: 'done', 'failed', 'skipped' or 'abandoned'."""
        job = await self.jobs.claim(cache_key, self.worker_id, self.clock())
        if job is None:
            log.info("job %s skipped: not queued (done, failed or taken)", cache_key[:12])
            return "skipped"
        if self._stopping:  # delivered as the worker stops: handed back for a re-kick at once
            await self.jobs.abandon(cache_key, self.worker_id, self.clock())
            return "abandoned"
        log.info("job %s claimed: problem=%s attempt=%d", cache_key[:12], problem_id, attempt)
        self._current = asyncio.create_task(self._run(job, fingerprint, size))
        try:
            return await self._current
        except asyncio.CancelledError:
            this = asyncio.current_task()
            if this is not None and this.cancelling():
                raise  # the delivery itself was cancelled, not just the job
            return "abandoned"
        finally:
            self._current = None

    def abandon(self) -> None:
        """Stops the job in hand (its child is killed) and any later delivery; their rows
        wait for the bot's re-kick."""
        self._stopping = True
        if self._current is not None:
            self._current.cancel()

    async def _run(self, job: ExplanationJob, fingerprint: str, size: str) -> str:
        try:
            result = await self._experiment(job, fingerprint, size)
        except ExperimentError as exc:
            log.warning("job %s failed: %s", job.cache_key[:12], exc.message)
            await self.jobs.fail(job.cache_key, self.worker_id, exc.message, self.clock())
            return "failed"
        except asyncio.CancelledError:
            await self.jobs.abandon(job.cache_key, self.worker_id, self.clock())
            log.warning("job %s abandoned: the worker is stopping", job.cache_key[:12])
            raise
        stored = to_stored(job.cache_key, job.problem_id, result, self.clock())
        await self.jobs.complete(stored, self.worker_id, self.clock())
        log.info("job %s done in %.1f s on %s", job.cache_key[:12], result.duration_s,
                 result.device)
        return "done"

    async def _experiment(self, job: ExplanationJob, fingerprint: str, size: str) -> RunResult:
        script, params = self._script(job.problem_id)
        if self._fingerprint(script) != fingerprint:
            raise JobRefused("The explanation worker has a different version of this "
                             "experiment than the bot; update whichever is behind.")
        if size == "auto":
            size = "full" if self.device == "cuda" else "cpu"
        # On a GPU the child picks its device (CUDA_VISIBLE_DEVICES pins it); with no driver
        # here it is the CPU, said outright so the child need not import torch to find out.
        device = None if self.device == "cuda" else "cpu"
        return await run_experiment(script, params, size=size, device=device,
                                    timeout_s=self.timeout_s, memory_mb=self.memory_mb,
                                    cache_dir=self.cache_dir,
                                    on_progress=self._reporter(job.cache_key))

    def _script(self, problem_id: str) -> tuple[Path, dict[str, object]]:
        problem: Problem | None = self.bank.problems.get(problem_id)
        if problem is None or problem.experiment is None:
            raise JobRefused(f"The explanation worker has no experiment for {problem_id}; "
                             "its question packs differ from the bot's.")
        pack_dir = self.bank.pack_of(problem).directory
        return problem.experiment.path(pack_dir), dict(problem.experiment.params)

    def _fingerprint(self, script: Path) -> str:
        if script not in self._fingerprints:
            self._fingerprints[script] = experiment_fingerprint(script)
        return self._fingerprints[script]

    def _reporter(self, cache_key: str) -> ProgressCallback:
        last = [0.0]

        async def report(step: int, total: int, label: str) -> None:
            now = time.monotonic()
            if step < total and now - last[0] < PROGRESS_EVERY_S:
                return
            last[0] = now
            await self.jobs.progress(cache_key, self.worker_id, step, total, label)
        return report


async def serve(worker: JobWorker, broker: RedisStreamBroker, stop: asyncio.Event) -> None:
    """Takes jobs one at a time until stop is set; then returns once the job in hand ends."""
    broker.is_worker_process = True

    async def explain_job(cache_key: str, problem_id: str, fingerprint: str, size: str,
                          attempt: int) -> str:
        return await worker.handle(cache_key, problem_id, fingerprint, size, attempt)

    broker.register_task(explain_job, task_name=TASK_NAME)  # a function: taskiq renames it
    # One job at a time and nothing prefetched: a message waiting here is one another worker
    # could be running. Acknowledged after the job, so a killed worker's message is reclaimed.
    receiver = Receiver(broker, max_async_tasks=1, max_prefetch=0,
                        ack_type=AcknowledgeType.WHEN_EXECUTED, propagate_exceptions=False)
    try:
        await receiver.listen(stop)
    finally:
        await broker.shutdown()
