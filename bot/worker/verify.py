"""`questions verify`: run each problem's experiment and compare its derived answer to the key.

The experiments run in one child process per lane (`batch`), so torch starts once per lane,
not once per experiment; `jobs` lanes run side by side, each with its share of the cores.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from bot.worker.batch import BatchItem, run_batch
from bot.worker.runner import ExperimentError, RunResult

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class VerifyOutcome:
    problem_id: str
    expected: str
    derived: str | None
    ok: bool
    duration_s: float
    error: str | None = None


VerifyItem = tuple[str, Path, dict, str]
ResultCallback = Callable[[VerifyOutcome], Awaitable[None] | None]


async def verify(
    items: list[VerifyItem],
    *,
    size: str = "test",
    on_result: ResultCallback | None = None,
    timeout_s: float = 120,
    memory_mb: int | None = 4096,
    cache_dir: Path | None = None,
    jobs: int = 1,
) -> list[VerifyOutcome]:
    """One outcome per item, in the items' order; a failing run is an outcome, not an exception.

    `timeout_s` limits each experiment, `memory_mb` each child that runs them. `jobs` children
    run side by side, each on its share of the items and of the CPU cores: small experiments
    use one core poorly, so two children with one thread each beat one child with two."""
    lanes = [list(range(len(items)))[lane::jobs] for lane in range(max(1, jobs))]
    threads = max(1, (os.cpu_count() or 1) // len(lanes)) if len(lanes) > 1 else None
    finished: asyncio.Queue[tuple[int, RunResult | ExperimentError | Exception]] = \
        asyncio.Queue()

    async def run_lane(indices: list[int]) -> None:
        batch = [BatchItem(items[i][1], items[i][2]) for i in indices]
        try:
            async for position, result in run_batch(batch, size=size, timeout_s=timeout_s,
                                                    memory_mb=memory_mb, cache_dir=cache_dir,
                                                    threads=threads):
                await finished.put((indices[position], result))
        except Exception as exc:  # the verifier's own failure: end the wait, don't hang it
            await finished.put((-1, exc))

    outcomes: dict[int, VerifyOutcome] = {}
    tasks = [asyncio.create_task(run_lane(lane)) for lane in lanes if lane]
    try:
        while len(outcomes) < len(items):
            index, result = await finished.get()
            if isinstance(result, Exception) and not isinstance(result, ExperimentError):
                raise result
            assert isinstance(result, RunResult | ExperimentError)
            outcomes[index] = await _report(items[index], result, on_result)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return [outcomes[index] for index in sorted(outcomes)]


async def _report(item: VerifyItem, result: RunResult | ExperimentError,
                  on_result: ResultCallback | None) -> VerifyOutcome:
    problem_id, _, _, expected = item
    outcome = _outcome(problem_id, expected, result)
    log.info("verify %s: expected %s, derived %s (%.1f s)", problem_id, expected,
             outcome.derived, outcome.duration_s)
    if on_result is not None:
        maybe = on_result(outcome)
        if inspect.isawaitable(maybe):
            await maybe
    return outcome


def _outcome(problem_id: str, expected: str, result: RunResult | ExperimentError
             ) -> VerifyOutcome:
    if isinstance(result, ExperimentError):
        return VerifyOutcome(problem_id, expected, None, False, 0.0, result.message)
    return VerifyOutcome(problem_id, expected, result.answer, result.answer == expected,
                         result.duration_s)
