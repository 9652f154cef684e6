"""Explanation jobs: the cache, one run for many identical requests, limits and a bounded queue.

Runs in the bot process and never imports torch. Where the runs happen is the `Runs` it is
given: child processes of the bot (`LocalRuns`, the default), or `tutorbot worker` processes
behind a queue (bot/queue/client.py, EXPLAIN_BACKEND=queue).
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib.metadata
import json
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from bot.bank import Bank, Problem
from bot.config import Config
from bot.store.explanations import ExplanationCache, ExplanationJobs, StoredExplanation
from bot.worker.runner import ExperimentError, RunResult, experiment_fingerprint

log = logging.getLogger(__name__)
Wait = Callable[[Awaitable[Any]], Awaitable[Any]]
ProgressReport = Callable[[int, int, str], None]
# The device a queued run's cache key names: the bot cannot know which worker takes a job.
ANY_WORKER = "worker"


class ExplainError(Exception):
    """Why an explanation cannot be given now; the message is safe to show a member."""


class NoExperiment(ExplainError):
    pass


class QueueFull(ExplainError):
    pass


class RateLimited(ExplainError):
    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RunFailed(ExplainError):
    def __init__(self, error: ExperimentError) -> None:
        super().__init__(error.message)
        self.error = error


@dataclass
class Progress:
    """Updated from the worker thread, read by whoever shows it (plain attributes: GIL-safe)."""

    step: int = 0
    total: int = 0
    label: str = "starting"


@dataclass(frozen=True)
class Explanation:
    problem_id: str
    text: str
    metrics: dict[str, Any]
    answer: str | None
    device: str
    duration_s: float
    figures: tuple[tuple[str, bytes], ...]
    cached: bool


@dataclass(frozen=True)
class Limits:
    queue: int = 4  # distinct runs waiting or running
    per_member: int = 3  # new runs a member may start per window
    member_window_s: float = 600.0
    per_guild: int = 12
    guild_window_s: float = 3600.0


class Backend(Protocol):
    def submit(self, script: Path, params: dict[str, Any], *, on_progress: Any,
               **options: Any) -> Any: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class RunRequest:
    """One run: the key its result is cached under, and what to run."""

    key: str
    problem_id: str
    script: Path
    params: dict[str, Any]
    fingerprint: str  # of the script and the lab helpers, as the key has it


class Runs(Protocol):
    """Where runs happen and how their results reach the cache."""

    def start(self, request: RunRequest,
              report: ProgressReport) -> asyncio.Future[StoredExplanation]:
        """Starts the run; the future holds its cached result, or an ExperimentError."""
        ...

    async def joinable(self, key: str) -> bool:
        """Whether a run for key is already going elsewhere (another bot process)."""
        ...

    async def busy(self) -> int:
        """Runs waiting or running beyond this process's own."""
        ...

    async def close(self) -> None: ...


class LocalRuns:
    """Child processes of the bot, through a backend; the bot caches each result.

    Nothing of the bot's waits on the backend: a task is made only once the run has ended,
    to cache its result (a test harness can tell that wait from the bot's own work)."""

    def __init__(self, backend: Backend, cache: ExplanationCache, options: dict[str, Any],
                 clock: Callable[[], float]) -> None:
        self.backend, self.cache, self.options, self.clock = backend, cache, options, clock
        self._caching: set[asyncio.Task[None]] = set()  # owned here until they end

    def start(self, request: RunRequest,
              report: ProgressReport) -> asyncio.Future[StoredExplanation]:
        loop = asyncio.get_running_loop()
        cached: asyncio.Future[StoredExplanation] = loop.create_future()
        submitted = self.backend.submit(request.script, request.params, on_progress=report,
                                        **self.options)
        asyncio.wrap_future(submitted, loop=loop).add_done_callback(
            lambda ran: self._track(loop.create_task(self._cache(request, ran, cached))))
        return cached

    def _track(self, task: asyncio.Task[None]) -> None:
        self._caching.add(task)
        task.add_done_callback(self._caching.discard)

    async def _cache(self, request: RunRequest, ran: asyncio.Future[RunResult],
                     cached: asyncio.Future[StoredExplanation]) -> None:
        if ran.cancelled():
            cached.cancel()
            return
        try:
            stored = to_stored(request.key, request.problem_id, ran.result(), self.clock())
            await self.cache.put(stored)
        except asyncio.CancelledError:
            cached.cancel()
            raise
        except BaseException as exc:  # noqa: BLE001 - handed to every waiter
            cached.set_exception(exc)
            return
        cached.set_result(stored)

    async def joinable(self, key: str) -> bool:
        return False  # every local run is in the Explainer's own in-flight table

    async def busy(self) -> int:
        return 0

    async def close(self) -> None:
        await asyncio.to_thread(self.backend.close)


@dataclass
class _InFlight:
    future: asyncio.Future[Explanation]
    listeners: list[Progress] = field(default_factory=list)

    def report(self, step: int, total: int, label: str) -> None:
        for progress in self.listeners:
            progress.step, progress.total, progress.label = step, total, label


async def passthrough(awaitable: Awaitable[Any]) -> Any:
    return await awaitable


def detect_device() -> str:
    """CUDA if an NVIDIA driver is present; decided without importing torch."""
    return "cuda" if Path("/proc/driver/nvidia/version").exists() else "cpu"


def torch_version() -> str:
    try:
        return importlib.metadata.version("torch")
    except importlib.metadata.PackageNotFoundError:
        return "none"


class Explainer:
    """device: the device the cache key names; size: the experiment size (with a queue, may be
    'auto': each worker decides by its device)."""

    def __init__(self, cache: ExplanationCache, bank: Bank, backend: Backend | None = None, *,
                 size: str = "cpu", device: str | None = None, timeout_s: float = 120,
                 memory_mb: int | None = 4096, cache_dir: Path | None = None,
                 limits: Limits = Limits(), clock: Callable[[], float] = time.time,
                 runs: Runs | None = None) -> None:
        self.cache, self.bank, self.backend = cache, bank, backend
        self.size, self.device = size, device or detect_device()
        self.run_options = {"size": size, "device": device,
                            "timeout_s": timeout_s, "memory_mb": memory_mb,
                            "cache_dir": cache_dir}
        if runs is None:
            if backend is None:
                raise TypeError("an Explainer needs a backend or runs")
            runs = LocalRuns(backend, cache, self.run_options, clock)
        self.runs = runs
        self.limits, self.clock = limits, clock
        self._inflight: dict[str, _InFlight] = {}
        self._recent: dict[tuple[str, int], deque[float]] = {}
        self._fingerprints: dict[Path, str] = {}
        self._torch = torch_version()

    @classmethod
    def from_config(cls, config: Config, cache: ExplanationCache, bank: Bank,
                    clock: Callable[[], float], jobs: ExplanationJobs | None = None
                    ) -> Explainer:
        """The bot's explainer: EXPLAIN_BACKEND=local runs in child processes on a worker
        thread, sized for the device this machine has; queue hands runs to workers."""
        if config.explain_backend == "queue":
            from bot.queue.client import QueueRuns

            runs = QueueRuns.from_config(config, cache, jobs or ExplanationJobs(cache.db))
            return cls(cache, bank, size=config.worker_size, device=ANY_WORKER,
                       timeout_s=config.worker_timeout_s, clock=clock, runs=runs)
        from bot.worker.backend import ThreadBackend

        size = config.worker_size
        if size == "auto":
            size = "full" if detect_device() == "cuda" else "cpu"
        return cls(cache, bank, ThreadBackend(), size=size, timeout_s=config.worker_timeout_s,
                   memory_mb=config.worker_memory_mb, cache_dir=config.worker_cache_dir,
                   clock=clock)

    async def close(self) -> None:
        """Stops the runs: a local run still going is cancelled and its child killed; a
        queued job stays with its worker, and its row with the bot's deadline."""
        await self.runs.close()

    def script_of(self, problem: Problem) -> Path:
        if problem.experiment is None:
            raise NoExperiment("This problem has no experiment to run yet.")
        return problem.experiment.path(self.bank.pack_of(problem).directory)

    def fingerprint(self, script: Path) -> str:
        if script not in self._fingerprints:  # read once: the code does not change while up
            self._fingerprints[script] = experiment_fingerprint(script)
        return self._fingerprints[script]

    def cache_key(self, problem: Problem) -> str:
        """What a result depends on: the script, its parameters and code, torch (the version
        installed beside the bot, read without importing it), the device and the size.

        With a queue the bot knows neither the worker's device nor its torch: the key names
        ANY_WORKER and the torch installed here (the same image as the workers', or 'none');
        the worker refuses a job whose code differs, and records its device with the result."""
        script = self.script_of(problem)
        assert problem.experiment is not None
        material = json.dumps([script.name, dict(problem.experiment.params),
                               self.fingerprint(script), self._torch, self.device, self.size],
                              sort_keys=True, default=str)
        return hashlib.sha256(material.encode()).hexdigest()

    async def cached(self, problem: Problem) -> Explanation | None:
        stored = await self.cache.get(self.cache_key(problem))
        return None if stored is None else _from_stored(stored, cached=True)

    async def explain(self, problem: Problem, *, member_id: int, guild_id: int,
                      progress: Progress | None = None, wait: Wait = passthrough) -> Explanation:
        """A cached result at once; else joins or starts the run. Raises ExplainError."""
        key = self.cache_key(problem)
        if key not in self._inflight:
            hit = await self.cache.get(key)
            if hit is not None:
                return _from_stored(hit, cached=True)
        entry = self._inflight.get(key)
        if entry is None:
            await self._admit(key, member_id, guild_id)
            # Checked again: another request may have started it while this one was admitted.
            entry = self._inflight.get(key) or self._start(key, problem)
        if progress is not None:
            entry.listeners.append(progress)
        return await wait(asyncio.shield(entry.future))

    async def _admit(self, key: str, member_id: int, guild_id: int) -> None:
        if await self.runs.joinable(key):
            return  # another process's run: joining it costs no run
        if max(len(self._inflight), await self.runs.busy()) >= self.limits.queue:
            raise QueueFull("The explanation queue is full right now; try again in a minute.")
        now = self.clock()
        self._check_window(("member", member_id), self.limits.per_member,
                           self.limits.member_window_s, now, "You have")
        self._check_window(("guild", guild_id), self.limits.per_guild,
                           self.limits.guild_window_s, now, "This server has")
        for scope in (("member", member_id), ("guild", guild_id)):
            self._recent.setdefault(scope, deque()).append(now)

    def _check_window(self, scope: tuple[str, int], limit: int, window: float, now: float,
                      who: str) -> None:
        times = self._recent.setdefault(scope, deque())
        while times and times[0] <= now - window:
            times.popleft()
        if len(times) >= limit:
            retry = times[0] + window - now
            raise RateLimited(f"{who} started {limit} runs recently; the next one is possible "
                              f"in {retry / 60:.0f} min. Cached results still answer at once.",
                              retry)

    def _start(self, key: str, problem: Problem) -> _InFlight:
        script = self.script_of(problem)
        params = dict(problem.experiment.params) if problem.experiment else {}
        request = RunRequest(key, problem.id, script, params, self.fingerprint(script))
        entry = _InFlight(asyncio.get_running_loop().create_future())
        outcome = self.runs.start(request, entry.report)
        self._inflight[key] = entry  # only once started: a failed start leaves nothing
        outcome.add_done_callback(lambda done: self._finish(request, entry, done))
        log.info("explanation run started: problem=%s key=%s", problem.id, key[:12])
        return entry

    def _finish(self, request: RunRequest, entry: _InFlight,
                done: asyncio.Future[StoredExplanation]) -> None:
        self._inflight.pop(request.key, None)
        if done.cancelled():
            entry.future.cancel()
            return
        error = done.exception()
        if error is None:
            entry.future.set_result(_from_stored(done.result(), cached=False))
        elif isinstance(error, ExperimentError):
            log.warning("explanation run failed: problem=%s: %s", request.problem_id,
                        error.message)
            entry.future.set_exception(RunFailed(error))
        else:  # handed to every waiter
            log.error("explanation run broke: problem=%s", request.problem_id, exc_info=error)
            entry.future.set_exception(error)
        entry.future.exception()  # mark retrieved: waiters may all have gone


def to_stored(key: str, problem_id: str, result: RunResult,
              now: float) -> StoredExplanation:
    return StoredExplanation(key, problem_id, result.text, dict(result.metrics), result.answer,
                             result.device, result.duration_s, now,
                             tuple((f.name, f.png) for f in result.figures))


def _from_stored(stored: StoredExplanation, cached: bool) -> Explanation:
    return Explanation(stored.problem_id, stored.text, dict(stored.metrics), stored.answer,
                       stored.device, stored.duration_s, stored.figures, cached)
