"""Small builders for tests: problems, banks and challenges without YAML."""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType

from bot.bank import Badge, Bank, Pack, Problem
from bot.store.records import Challenge

KINDS = ("conceptual", "predict-output", "model-choice", "hyperparameter", "metrics")


def problem(pid: str = "p1", *, pack_id: str = "pack", kind: str = "conceptual",
            difficulty: str = "intermediate", answer: str = "B", attempts: int = 2,
            time_limit: int = 120) -> Problem:
    return Problem(
        id=pid, pack_id=pack_id, kind=kind, difficulty=difficulty, title=f"Title of {pid}",
        prompt="What?", choices=MappingProxyType({"A": "a", "B": "b", "C": "c", "D": "d"}),
        answer=answer, hint="Think.", explanation="Because.",
        why_not=MappingProxyType({k: "no" for k in "ABCD" if k != answer}),
        time_limit=time_limit, attempts=attempts)


def bank(problems_per_pack: int = 5, packs: tuple[str, ...] = ("pack",)) -> Bank:
    result = Bank()
    for pack_id in packs:
        problems = tuple(problem(f"{pack_id}-{i}", pack_id=pack_id, kind=KINDS[i % len(KINDS)])
                         for i in range(problems_per_pack))
        pack = Pack(pack_id, f"Pack {pack_id}", "", Badge(f"{pack_id} Master", "🏅", "All."),
                    problems, Path(f"/virtual/{pack_id}/pack.yaml"))
        result.packs[pack_id] = pack
        result.problems.update({p.id: p for p in problems})
    return result


def challenge(*, answer: str = "B", attempts: int = 2, opened_at: float = 1000.0,
              time_limit: float = 120.0, difficulty: str = "intermediate",
              scoring_mode: str = "speed", hint_cost_percent: int = 25,
              closed_at: float | None = None) -> Challenge:
    return Challenge(
        id=1, guild_id=10, channel_id=20, problem_id="p1", pack_id="pack", kind="conceptual",
        difficulty=difficulty, answer=answer, letters="ABCD", attempts_allowed=attempts,
        opened_at=opened_at, deadline=opened_at + time_limit, scoring_mode=scoring_mode,
        hint_cost_percent=hint_cost_percent, closed_at=closed_at)
