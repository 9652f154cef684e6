"""Leaderboards and profiles, read from the maintained totals (never a scan of attempts)."""

from __future__ import annotations

from bot.store.db import Conn, Database
from bot.store.records import KindStats, Leaderboard, LeaderboardRow, Profile

ALL_PACKS = "*"


class LeaderboardRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def page(self, guild_id: int, period: str, *, scope: str = ALL_PACKS, limit: int = 10,
                   offset: int = 0, member_id: int | None = None) -> Leaderboard:
        """Top `limit` from `offset`, and the asking member's own rank."""
        return await self.db.run(
            lambda c: _page(c, guild_id, period, scope, limit, offset, member_id))


def _page(conn: Conn, guild_id: int, period: str, scope: str, limit: int,
          offset: int, member_id: int | None) -> Leaderboard:
    key = (guild_id, scope, period)
    top = conn.execute(
        "SELECT member_id, points FROM member_points WHERE guild_id = ? AND scope = ?"
        " AND period = ? ORDER BY points DESC, member_id LIMIT ? OFFSET ?",
        (*key, limit, offset)).fetchall()
    rows = tuple(LeaderboardRow(_rank(conn, key, points), member, points)
                 for member, points in top)
    counted = conn.execute("SELECT members FROM period_members WHERE guild_id = ? AND scope = ?"
                           " AND period = ?", key).fetchone()
    total = counted[0] if counted else 0
    me = _member_row(conn, key, member_id) if member_id is not None else None
    return Leaderboard(period, scope, rows, total, me)


def _rank(conn: Conn, key: tuple[int, str, str], points: int) -> int:
    """Competition ranking (1, 2, 2, 4): one more than the members strictly ahead."""
    ahead = conn.execute("SELECT count(*) FROM member_points WHERE guild_id = ? AND scope = ?"
                         " AND period = ? AND points > ?", (*key, points)).fetchone()[0]
    return ahead + 1


def _member_row(conn: Conn, key: tuple[int, str, str],
                member_id: int) -> LeaderboardRow | None:
    row = conn.execute("SELECT points FROM member_points WHERE guild_id = ? AND scope = ?"
                       " AND period = ? AND member_id = ?", (*key, member_id)).fetchone()
    if row is None:
        return None
    return LeaderboardRow(_rank(conn, key, row[0]), member_id, row[0])


class ProfileRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, guild_id: int, member_id: int) -> Profile:
        return await self.db.run(lambda c: _profile(c, guild_id, member_id))


def _profile(conn: Conn, guild_id: int, member_id: int) -> Profile:
    ids = (guild_id, member_id)
    row = conn.execute("SELECT * FROM members WHERE guild_id = ? AND member_id = ?",
                       ids).fetchone()
    kinds = tuple(KindStats(k, a, c) for k, a, c in conn.execute(
        "SELECT kind, answered, correct FROM member_kinds WHERE guild_id = ? AND member_id = ?"
        " ORDER BY kind", ids))
    badges = tuple((b, t) for b, t in conn.execute(
        "SELECT badge_id, awarded_at FROM badges WHERE guild_id = ? AND member_id = ?"
        " ORDER BY awarded_at, badge_id", ids))
    solved = dict(conn.execute("SELECT pack_id, count(*) FROM solved WHERE guild_id = ?"
                               " AND member_id = ? GROUP BY pack_id", ids).fetchall())
    if row is None:
        return Profile(guild_id, member_id, kinds=kinds, badges=badges, solved=solved)
    return Profile(guild_id, member_id, points=row["points"], answered=row["answered"],
                   correct=row["correct"], attempts=row["attempts"], hints=row["hints"],
                   streak=row["streak"], best_streak=row["best_streak"], kinds=kinds,
                   badges=badges, solved=solved)
