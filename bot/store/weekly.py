"""What a server did in a window of time, read for the weekly results post.

Attempts are found through their challenges: an attempt counts only while its challenge is
open, so it is answered at or before the challenge's deadline; the challenges whose deadline
is at or after the window's start (index challenges_by_guild_deadline) hold every attempt in
it, and a server's older history is never read.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.store.db import Conn, Database

# Points per member in the window and in the one before it: members with an attempt in
# either; `answered` counts attempts in the window itself.
POINTS = """
SELECT a.member_id,
       coalesce(sum(CASE WHEN a.answered_at >= :start THEN a.points END), 0) AS points,
       coalesce(sum(CASE WHEN a.answered_at < :start THEN a.points END), 0) AS previous,
       count(CASE WHEN a.answered_at >= :start THEN 1 END) AS answered
FROM challenges c JOIN attempts a ON a.challenge_id = c.id
WHERE c.guild_id = :guild AND c.deadline >= :previous_start AND c.opened_at < :end
  AND a.answered_at >= :previous_start AND a.answered_at < :end
GROUP BY a.member_id
"""

# Per problem: the members who answered it in the window, and those of them who got it right
# (a member who answered it in two challenges is right if any attempt was).
PROBLEMS = """
SELECT problem_id, count(*) AS answered, sum(was_right) AS right FROM (
    SELECT c.problem_id, a.member_id, max(a.correct) AS was_right
    FROM challenges c JOIN attempts a ON a.challenge_id = c.id
    WHERE c.guild_id = :guild AND c.deadline >= :start AND c.opened_at < :end
      AND a.answered_at >= :start AND a.answered_at < :end
    GROUP BY c.problem_id, a.member_id) AS per_member
GROUP BY problem_id ORDER BY problem_id
"""

# Challenges posted in the window; one whose post failed (no message) never ran.
CHALLENGES = """
SELECT count(*) FROM challenges
WHERE guild_id = :guild AND deadline >= :start AND opened_at >= :start AND opened_at < :end
  AND message_id IS NOT NULL
"""

BADGES = """
SELECT member_id, badge_id, awarded_at FROM badges
WHERE guild_id = :guild AND awarded_at >= :start AND awarded_at < :end
ORDER BY awarded_at, member_id, badge_id
"""


@dataclass(frozen=True)
class ProblemTally:
    problem_id: str
    answered: int  # members who answered it
    right: int  # of them, those with a correct attempt


@dataclass(frozen=True)
class WeekActivity:
    """A server's window [start, end) and the window of the same length before it."""

    points: dict[int, int] = field(default_factory=dict)  # member -> points; 0 if only wrong
    previous_points: dict[int, int] = field(default_factory=dict)  # the window before
    badges: tuple[tuple[int, str, float], ...] = ()  # (member, badge, awarded at), in order
    problems: tuple[ProblemTally, ...] = ()
    challenges: int = 0  # posted in the window


class WeeklyRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def activity(self, guild_id: int, start: float, end: float, *,
                       previous_start: float | None = None) -> WeekActivity:
        """What happened in [start, end); the window before is [previous_start, start),
        by default as long as this one."""
        if previous_start is None:
            previous_start = start - (end - start)
        params = {"guild": guild_id, "start": start, "end": end,
                  "previous_start": previous_start}
        return await self.db.run(lambda c: _activity(c, params))


def _activity(conn: Conn, params: dict[str, float]) -> WeekActivity:
    points: dict[int, int] = {}
    previous: dict[int, int] = {}
    for member, now, before, answered in conn.execute(POINTS, params):
        if answered:
            points[member] = now
        if before:
            previous[member] = before
    problems = tuple(ProblemTally(p, n, r) for p, n, r in conn.execute(PROBLEMS, params))
    badges = tuple((m, b, t) for m, b, t in conn.execute(BADGES, params))
    challenges = conn.execute(CHALLENGES, params).fetchone()[0]
    return WeekActivity(points, previous, badges, problems, challenges)
