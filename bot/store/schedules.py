"""Schedules, badge roles, and the fire record that makes every scheduled run idempotent."""

from __future__ import annotations

import json
from dataclasses import fields

from bot.store.db import Conn, Database, Row
from bot.store.records import NewSchedule, Schedule, ScheduleLimitReached
from bot.store.rows import columns, values

NEW_FIELDS = tuple(f.name for f in fields(NewSchedule))
INSERT_NEW = (f"INSERT INTO schedules ({', '.join(NEW_FIELDS)})"
              f" VALUES ({', '.join('?' * len(NEW_FIELDS))}) RETURNING *")
SCHEDULE_COLUMNS = columns(Schedule)
# The schedules among a JSON list of ids: each dialect reads the list with its own function.
RUNNING_AMONG = {
    "sqlite": "SELECT * FROM schedules WHERE id IN (SELECT value FROM json_each(?))"
              " AND paused_reason IS NULL ORDER BY id",
    "postgres": "SELECT * FROM schedules WHERE id IN (SELECT CAST(value AS bigint)"
                " FROM json_array_elements_text(CAST(? AS json)))"
                " AND paused_reason IS NULL ORDER BY id",
}


def schedule_from_row(row: Row) -> Schedule:
    return Schedule(**values(row, SCHEDULE_COLUMNS))


class ScheduleRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(self, new: NewSchedule, limit: int) -> Schedule:
        """Stores the schedule, or raises ScheduleLimitReached: counted and inserted in one
        transaction, so two admins adding at once cannot pass the limit."""
        return await self.db.transaction(lambda c: _add(c, new, limit))

    async def get(self, schedule_id: int) -> Schedule | None:
        row = await self.db.fetchone("SELECT * FROM schedules WHERE id = ?", (schedule_id,))
        return schedule_from_row(row) if row else None

    async def of_guild(self, guild_id: int) -> list[Schedule]:
        rows = await self.db.fetchall("SELECT * FROM schedules WHERE guild_id = ? ORDER BY id",
                                      (guild_id,))
        return [schedule_from_row(r) for r in rows]

    async def running(self) -> list[Schedule]:
        """Every schedule not paused: what the scheduler rebuilds its jobs from."""
        rows = await self.db.fetchall("SELECT * FROM schedules WHERE paused_reason IS NULL"
                                      " ORDER BY id")
        return [schedule_from_row(r) for r in rows]

    async def running_among(self, ids: list[int]) -> list[Schedule]:
        """The schedules of `ids` that are still there and not paused, in one query (ids as
        one JSON list: no limit on how many)."""
        rows = await self.db.fetchall(RUNNING_AMONG[self.db.dialect], (json.dumps(ids),))
        return [schedule_from_row(r) for r in rows]

    async def pause(self, schedule_id: int, reason: str) -> bool:
        return await self.db.execute("UPDATE schedules SET paused_reason = ? WHERE id = ?",
                                     (reason, schedule_id)) == 1

    async def resume(self, schedule_id: int) -> bool:
        return await self.db.execute("UPDATE schedules SET paused_reason = NULL WHERE id = ?",
                                     (schedule_id,)) == 1

    async def remove(self, schedule_id: int) -> bool:
        return await self.db.transaction(lambda c: _remove(c, schedule_id))

    async def note_outcome(self, schedule_id: int, slot: float, outcome: str) -> None:
        """Remembers what the run of `slot` did, for /schedule list."""
        await self.db.execute("UPDATE schedules SET last_fire_at = ?, last_outcome = ?"
                              " WHERE id = ?", (slot, outcome, schedule_id))


class FireRecord:
    """(job, scheduled instant) pairs, each claimed at most once, ever."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def claim(self, job: str, slot: int, now: float) -> bool:
        """True for the one caller that claims this run; every later claim gets False."""
        return await self.db.execute(
            "INSERT INTO job_fires (job, slot, fired_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            (job, slot, now)) == 1

    async def finish(self, job: str, slot: int, outcome: str) -> None:
        await self.db.execute("UPDATE job_fires SET outcome = ? WHERE job = ? AND slot = ?",
                              (outcome, job, slot))

    async def claimed(self, job: str, slot: int) -> bool:
        row = await self.db.fetchone("SELECT 1 FROM job_fires WHERE job = ? AND slot = ?",
                                     (job, slot))
        return row is not None

    async def last(self, job: str) -> int | None:
        row = await self.db.fetchone("SELECT max(slot) FROM job_fires WHERE job = ?", (job,))
        return row[0] if row else None


class BadgeRoleRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def set(self, guild_id: int, badge_id: str, role_id: int | None) -> None:
        """Links the badge to the role; None unlinks it."""
        if role_id is None:
            await self.db.execute("DELETE FROM badge_roles WHERE guild_id = ? AND badge_id = ?",
                                  (guild_id, badge_id))
            return
        await self.db.execute(
            "INSERT INTO badge_roles (guild_id, badge_id, role_id) VALUES (?, ?, ?)"
            " ON CONFLICT (guild_id, badge_id) DO UPDATE SET role_id = excluded.role_id",
            (guild_id, badge_id, role_id))

    async def of_guild(self, guild_id: int) -> dict[str, int]:
        rows = await self.db.fetchall("SELECT badge_id, role_id FROM badge_roles"
                                      " WHERE guild_id = ?", (guild_id,))
        return {badge: role for badge, role in rows}


def _add(conn: Conn, new: NewSchedule, limit: int) -> Schedule:
    count = conn.execute("SELECT count(*) FROM schedules WHERE guild_id = ?",
                         (new.guild_id,)).fetchone()[0]
    if count >= limit:
        raise ScheduleLimitReached(limit)
    row = conn.execute(INSERT_NEW, tuple(getattr(new, f) for f in NEW_FIELDS)).fetchone()
    return schedule_from_row(row)


def _remove(conn: Conn, schedule_id: int) -> bool:
    conn.execute("DELETE FROM job_fires WHERE job = ?", (f"schedule:{schedule_id}",))
    return conn.execute("DELETE FROM schedules WHERE id = ?", (schedule_id,)).rowcount == 1
