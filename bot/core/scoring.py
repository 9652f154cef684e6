"""Points: by difficulty, less on later attempts and after a hint, with an optional speed bonus."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum


class ScoringMode(StrEnum):
    SPEED = "speed"  # a bonus for answering early
    LEARNING = "learning"  # accuracy only, for groups that dislike racing


BASE_POINTS = {"intermediate": 100, "advanced": 150, "expert": 200}
SPEED_BONUS_SHARE = 0.5  # an instant answer earns up to half the base again
DEFAULT_HINT_COST = 25  # percent of the problem's points


@dataclass(frozen=True)
class ScoringPolicy:
    mode: ScoringMode = ScoringMode.SPEED
    hint_cost_percent: int = DEFAULT_HINT_COST

    def __post_init__(self) -> None:
        if not 0 <= self.hint_cost_percent <= 100:
            raise ValueError("hint cost must be 0–100 percent")


def policy(mode: str, hint_cost_percent: int) -> ScoringPolicy:
    return ScoringPolicy(ScoringMode(mode), hint_cost_percent)


def attempt_factor(attempt_no: int) -> float:
    """Each later attempt is worth half the one before."""
    return 0.5 ** (attempt_no - 1)


def speed_bonus(base: int, elapsed: float, time_limit: float, mode: ScoringMode) -> int:
    if mode is ScoringMode.LEARNING or time_limit <= 0:
        return 0
    remaining = min(max(time_limit - elapsed, 0.0), time_limit)
    return math.floor(base * SPEED_BONUS_SHARE * remaining / time_limit)


def points_for(difficulty: str, attempt_no: int, used_hint: bool, elapsed: float,
               time_limit: float, policy: ScoringPolicy) -> int:
    """Points for a correct answer; a wrong answer scores nothing."""
    base = BASE_POINTS[difficulty]
    raw = (base + speed_bonus(base, elapsed, time_limit, policy.mode)) * attempt_factor(attempt_no)
    if used_hint:
        raw *= 1 - policy.hint_cost_percent / 100
    return math.floor(raw)


def hint_cost(difficulty: str, policy: ScoringPolicy) -> int:
    """What the hint costs at most, for telling the member before they look."""
    return math.floor(BASE_POINTS[difficulty] * policy.hint_cost_percent / 100)
