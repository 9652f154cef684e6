"""Challenges: opening, closing exactly once, hints, and what the reveal shows."""

from __future__ import annotations

from dataclasses import fields

from bot.store.db import Conn, Database, dialect
from bot.store.records import Challenge, ChallengeMissing, MemberProgress, NewChallenge, Reveal
from bot.store.rows import challenge_from_row

# Only NewChallenge's own fields: a Challenge passed in would otherwise write its id too.
NEW_FIELDS = tuple(f.name for f in fields(NewChallenge))
CHANNEL_LOCKS = 0x7475  # advisory lock space of "one open challenge per channel"
INSERT_NEW = (f"INSERT INTO challenges ({', '.join(NEW_FIELDS)})"
              f" VALUES ({', '.join('?' * len(NEW_FIELDS))}) RETURNING id")


class ChallengeRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def open(self, new: NewChallenge, *, exclusive: bool) -> Challenge | int:
        """Inserts the challenge; with exclusive, returns the id of an open one in the channel
        instead (checked and inserted in one transaction, so two starters cannot both win)."""
        return await self.db.transaction(lambda c: _open(c, new, exclusive))

    async def get(self, challenge_id: int) -> Challenge:
        return await self.db.run(lambda c: get_challenge(c, challenge_id))

    async def set_message(self, challenge_id: int, message_id: int) -> None:
        await self.db.execute("UPDATE challenges SET message_id = ? WHERE id = ?",
                              (message_id, challenge_id))

    async def close(self, challenge_id: int, now: float) -> bool:
        """Closes the challenge; True only for the one call that closed it."""
        changed = await self.db.execute(
            "UPDATE challenges SET closed_at = ? WHERE id = ? AND closed_at IS NULL",
            (now, challenge_id))
        return changed == 1

    async def open_ones(self) -> list[Challenge]:
        rows = await self.db.fetchall(
            "SELECT * FROM challenges WHERE closed_at IS NULL ORDER BY deadline")
        return [challenge_from_row(r) for r in rows]

    async def unrevealed(self) -> list[Challenge]:
        """Closed challenges whose post was never turned into the reveal."""
        rows = await self.db.fetchall(
            "SELECT * FROM challenges WHERE closed_at IS NOT NULL AND revealed_at IS NULL")
        return [challenge_from_row(r) for r in rows]

    async def mark_revealed(self, challenge_id: int, now: float) -> None:
        await self.db.execute("UPDATE challenges SET revealed_at = ? WHERE id = ?",
                              (now, challenge_id))

    async def recent_problems(self, guild_id: int, limit: int = 50) -> list[str]:
        """Problem ids posted in the server, most recent first, each once."""
        rows = await self.db.fetchall(
            "SELECT problem_id FROM challenges WHERE guild_id = ? GROUP BY problem_id"
            " ORDER BY max(id) DESC LIMIT ?", (guild_id, limit))
        return [r[0] for r in rows]

    async def seen_per_pack(self, guild_id: int) -> dict[str, int]:
        """How many distinct problems of each pack the server has had as challenges."""
        rows = await self.db.fetchall(
            "SELECT pack_id, count(DISTINCT problem_id) FROM challenges WHERE guild_id = ?"
            " GROUP BY pack_id", (guild_id,))
        return {r[0]: r[1] for r in rows}

    async def live_problem(self, guild_id: int, problem_id: str) -> bool:
        """Whether a challenge of this problem is still running in the server."""
        row = await self.db.fetchone(
            "SELECT 1 FROM challenges WHERE guild_id = ? AND problem_id = ? AND closed_at IS NULL"
            " LIMIT 1", (guild_id, problem_id))
        return row is not None

    async def closed_count(self) -> int:
        row = await self.db.fetchone("SELECT count(*) FROM challenges WHERE closed_at IS NOT NULL")
        return int(row[0]) if row else 0

    async def progress(self, challenge_id: int, member_id: int) -> MemberProgress:
        return await self.db.run(lambda c: member_progress(c, challenge_id, member_id))

    async def open_in_channel(self, channel_id: int) -> list[Challenge]:
        rows = await self.db.fetchall(
            "SELECT * FROM challenges WHERE channel_id = ? AND closed_at IS NULL", (channel_id,))
        return [challenge_from_row(r) for r in rows]

    async def record_hint(self, challenge_id: int, member_id: int, now: float) -> bool:
        """Marks the hint seen; True the first time (when it costs points)."""
        return await self.db.transaction(lambda c: _record_hint(c, challenge_id, member_id, now))

    async def reveal_summary(self, challenge_id: int) -> Reveal:
        """What the reveal shows: the answer spread, solvers, first solver and badges."""
        return await self.db.run(lambda c: _summary(c, challenge_id))


def get_challenge(conn: Conn, challenge_id: int) -> Challenge:
    row = conn.execute("SELECT * FROM challenges WHERE id = ?", (challenge_id,)).fetchone()
    if row is None:
        raise ChallengeMissing(challenge_id)
    return challenge_from_row(row)


def _open(conn: Conn, new: NewChallenge, exclusive: bool) -> Challenge | int:
    if exclusive and dialect(conn) == "postgres":
        # SQLite's BEGIN IMMEDIATE already serialises this check and insert; PostgreSQL's
        # processes (the schedule leader and the channel's own shard) take turns per channel.
        conn.execute("SELECT pg_advisory_xact_lock(?, ?)",
                     (CHANNEL_LOCKS, new.channel_id % 2**31))
    if exclusive:  # an overdue one is being revealed: it no longer holds the channel
        busy = conn.execute("SELECT id FROM challenges WHERE channel_id = ? AND closed_at IS NULL"
                            " AND deadline > ? ORDER BY deadline LIMIT 1",
                            (new.channel_id, new.opened_at)).fetchone()
        if busy is not None:
            return int(busy[0])
    row = conn.execute(INSERT_NEW, tuple(getattr(new, name) for name in NEW_FIELDS)).fetchone()
    return get_challenge(conn, int(row[0]))


def member_progress(conn: Conn, challenge_id: int, member_id: int) -> MemberProgress:
    used, solved = conn.execute(
        "SELECT count(*), max(CASE WHEN correct = 1 THEN points END) FROM attempts"
        " WHERE challenge_id = ? AND member_id = ?", (challenge_id, member_id)).fetchone()
    hint = conn.execute("SELECT 1 FROM hints WHERE challenge_id = ? AND member_id = ?",
                        (challenge_id, member_id)).fetchone()
    return MemberProgress(used, solved, hint is not None)


def _record_hint(conn: Conn, challenge_id: int, member_id: int, now: float) -> bool:
    cursor = conn.execute("INSERT INTO hints (challenge_id, member_id, revealed_at)"
                          " VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                          (challenge_id, member_id, now))
    if cursor.rowcount != 1:
        return False
    guild = conn.execute("SELECT guild_id FROM challenges WHERE id = ?", (challenge_id,)).fetchone()
    conn.execute("INSERT INTO members (guild_id, member_id, hints) VALUES (?, ?, 1)"
                 " ON CONFLICT (guild_id, member_id) DO UPDATE SET hints = members.hints + 1",
                 (guild[0], member_id))
    return True


def _summary(conn: Conn, challenge_id: int) -> Reveal:
    challenge = get_challenge(conn, challenge_id)
    spread = dict.fromkeys(challenge.letters, 0)
    for choice, count in conn.execute(
            "SELECT choice, count(*) FROM attempts WHERE challenge_id = ? AND attempt_no = 1"
            " GROUP BY choice", (challenge_id,)):
        spread[choice] = count
    solvers = conn.execute("SELECT count(*) FROM attempts WHERE challenge_id = ? AND correct = 1",
                           (challenge_id,)).fetchone()[0]
    first = conn.execute("SELECT member_id, answered_at FROM attempts WHERE challenge_id = ?"
                         " AND correct = 1 ORDER BY answered_at, member_id LIMIT 1",
                         (challenge_id,)).fetchone()
    badges = tuple((m, b) for m, b in conn.execute(
        "SELECT member_id, badge_id FROM badges WHERE challenge_id = ? ORDER BY awarded_at",
        (challenge_id,)))
    return Reveal(challenge, spread, sum(spread.values()), solvers,
                  first[0] if first else None, first[1] if first else None, badges)
