"""Explanation jobs: the cache, one run for many identical requests, limits and a bounded queue.

Runs in the bot process and never imports torch: the runs themselves happen in child
processes started by the backend.
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
from bot.store.explanations import ExplanationCache, StoredExplanation
from bot.worker.runner import ExperimentError, RunResult, experiment_fingerprint

log = logging.getLogger(__name__)
Wait = Callable[[Awaitable[Any]], Awaitable[Any]]


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
    def __init__(self, cache: ExplanationCache, bank: Bank, backend: Backend, *,
                 size: str = "cpu", device: str | None = None, timeout_s: float = 120,
                 memory_mb: int | None = 4096, cache_dir: Path | None = None,
                 limits: Limits = Limits(), clock: Callable[[], float] = time.time) -> None:
        self.cache, self.bank, self.backend = cache, bank, backend
        self.size, self.device = size, device or detect_device()
        self.run_options = {"size": size, "device": device,
                            "timeout_s": timeout_s, "memory_mb": memory_mb,
                            "cache_dir": cache_dir}
        self.limits, self.clock = limits, clock
        self._inflight: dict[str, _InFlight] = {}
        self._recent: dict[tuple[str, int], deque[float]] = {}
        self._fingerprints: dict[Path, str] = {}
        self._finishing: set[asyncio.Task[None]] = set()  # owned here until they end
        self._torch = torch_version()

    @classmethod
    def from_config(cls, config: Config, cache: ExplanationCache, bank: Bank,
                    clock: Callable[[], float]) -> Explainer:
        """The bot's explainer: runs in child processes on a worker thread, sized for the
        device this machine has."""
        from bot.worker.backend import ThreadBackend

        size = config.worker_size
        if size == "auto":
            size = "full" if detect_device() == "cuda" else "cpu"
        return cls(cache, bank, ThreadBackend(), size=size, timeout_s=config.worker_timeout_s,
                   memory_mb=config.worker_memory_mb, cache_dir=config.worker_cache_dir,
                   clock=clock)

    async def close(self) -> None:
        """Stops the backend: a run still going is cancelled and its child killed."""
        await asyncio.to_thread(self.backend.close)

    def script_of(self, problem: Problem) -> Path:
        if problem.experiment is None:
            raise NoExperiment("This problem has no experiment to run yet.")
        return problem.experiment.path(self.bank.pack_of(problem).directory)

    def cache_key(self, problem: Problem) -> str:
        script = self.script_of(problem)
        if script not in self._fingerprints:  # read once: the code does not change while up
            self._fingerprints[script] = experiment_fingerprint(script)
        assert problem.experiment is not None
        material = json.dumps([script.name, dict(problem.experiment.params),
                               self._fingerprints[script], self._torch, self.device, self.size],
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
            self._admit(member_id, guild_id)
            entry = self._start(key, problem)
        if progress is not None:
            entry.listeners.append(progress)
        return await wait(asyncio.shield(entry.future))

    def _admit(self, member_id: int, guild_id: int) -> None:
        if len(self._inflight) >= self.limits.queue:
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
        loop = asyncio.get_running_loop()
        entry = _InFlight(loop.create_future())
        params = dict(problem.experiment.params) if problem.experiment else {}
        submitted = self.backend.submit(self.script_of(problem), params,
                                        on_progress=entry.report, **self.run_options)
        self._inflight[key] = entry  # only once submitted: a failed submit leaves nothing
        wrapped = asyncio.wrap_future(submitted, loop=loop)
        wrapped.add_done_callback(lambda done: self._track(
            loop.create_task(self._finish(key, problem, entry, done))))
        log.info("explanation run started: problem=%s key=%s", problem.id, key[:12])
        return entry

    def _track(self, task: asyncio.Task[None]) -> None:
        self._finishing.add(task)
        task.add_done_callback(self._finishing.discard)

    async def _finish(self, key: str, problem: Problem, entry: _InFlight,
                      done: asyncio.Future[RunResult]) -> None:
        try:
            result = done.result()
            stored = _to_stored(key, problem.id, result, self.clock())
            await self.cache.put(stored)
            entry.future.set_result(_from_stored(stored, cached=False))
        except ExperimentError as exc:
            log.warning("explanation run failed: problem=%s: %s", problem.id, exc.message)
            entry.future.set_exception(RunFailed(exc))
        except BaseException as exc:  # noqa: BLE001 - handed to every waiter
            log.exception("explanation run broke: problem=%s", problem.id)
            entry.future.set_exception(exc)
        finally:
            self._inflight.pop(key, None)
            if entry.future.done() and not entry.future.cancelled():
                entry.future.exception()  # mark retrieved: waiters may all have gone


def _to_stored(key: str, problem_id: str, result: RunResult, now: float) -> StoredExplanation:
    return StoredExplanation(key, problem_id, result.text, dict(result.metrics), result.answer,
                             result.device, result.duration_s, now,
                             tuple((f.name, f.png) for f in result.figures))


def _from_stored(stored: StoredExplanation, cached: bool) -> Explanation:
    return Explanation(stored.problem_id, stored.text, dict(stored.metrics), stored.answer,
                       stored.device, stored.duration_s, stored.figures, cached)
