"""`questions verify`: run each problem's experiment and compare its derived answer to the key.

Sequential on purpose: CI has two cores and each experiment already uses them.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from bot.worker.runner import ExperimentError, run_experiment

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
    cache_dir: Path | None = None,
) -> list[VerifyOutcome]:
    """One outcome per item, in order; a failing run is an outcome, not an exception."""
    outcomes: list[VerifyOutcome] = []
    for problem_id, script, params, expected in items:
        outcome = await _verify_one(problem_id, script, params, expected, size, timeout_s,
                                    cache_dir)
        log.info("verify %s: expected %s, derived %s (%.1f s)", problem_id, expected,
                 outcome.derived, outcome.duration_s)
        outcomes.append(outcome)
        if on_result is not None:
            maybe = on_result(outcome)
            if inspect.isawaitable(maybe):
                await maybe
    return outcomes


async def _verify_one(problem_id: str, script: Path, params: dict, expected: str, size: str,
                      timeout_s: float, cache_dir: Path | None) -> VerifyOutcome:
    try:
        result = await run_experiment(script, params, size=size, timeout_s=timeout_s,
                                      cache_dir=cache_dir)
    except ExperimentError as exc:
        return VerifyOutcome(problem_id, expected, None, False, 0.0, exc.message)
    return VerifyOutcome(problem_id, expected, result.answer, result.answer == expected,
                         result.duration_s)
