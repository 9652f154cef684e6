"""`questions verify`: run each problem's experiment and compare its derived answer to the key.

Sequential on purpose: CI has two cores and each experiment already uses them. All of them
run in one child process (`batch`), so torch starts once, not once per experiment.
"""

from __future__ import annotations

import inspect
import logging
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
) -> list[VerifyOutcome]:
    """One outcome per item, in the items' order; a failing run is an outcome, not an exception.

    `timeout_s` limits each experiment, `memory_mb` the child that runs them."""
    outcomes: dict[int, VerifyOutcome] = {}
    batch = [BatchItem(script, params) for _, script, params, _ in items]
    async for index, result in run_batch(batch, size=size, timeout_s=timeout_s,
                                         memory_mb=memory_mb, cache_dir=cache_dir):
        problem_id, _, _, expected = items[index]
        outcome = _outcome(problem_id, expected, result)
        log.info("verify %s: expected %s, derived %s (%.1f s)", problem_id, expected,
                 outcome.derived, outcome.duration_s)
        outcomes[index] = outcome
        if on_result is not None:
            maybe = on_result(outcome)
            if inspect.isawaitable(maybe):
                await maybe
    return [outcomes[index] for index in sorted(outcomes)]


def _outcome(problem_id: str, expected: str, result: RunResult | ExperimentError
             ) -> VerifyOutcome:
    if isinstance(result, ExperimentError):
        return VerifyOutcome(problem_id, expected, None, False, 0.0, result.message)
    return VerifyOutcome(problem_id, expected, result.answer, result.answer == expected,
                         result.duration_s)
