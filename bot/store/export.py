"""Every attempt of one server, read in chunks for /export.

Each chunk is one short unit on the connection's thread (the thread members' clicks share),
read by keyset pagination along an index, so a chunk costs the same early or late in the
export and no statement stays open between chunks. A chunk reads at most `limit` attempts;
those before `since` are dropped after reading, so a narrow period never turns one chunk
into a scan of the server's whole history.

Challenge attempts are read along challenges_by_guild_deadline: an attempt counts only while
its challenge is open, so one answered at or after `since` belongs to a challenge whose
deadline is at or after it (see bot/store/weekly.py). Run attempts are read along
runs_by_member. Neither order is the order of time: the core sorts.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from math import inf
from typing import Any

from bot.store.db import Database

# One exported attempt: (answered_at, member_id, attempt_no, CSV line, where the reading
# stood...). SQLite builds the line: over a million rows its C saves seconds of Python, which
# then only sorts the rows. Rows compare as tuples, time first; no cell is NULL.
ExportRow = tuple[Any, ...]
ANSWERED_AT, MEMBER_ID, ATTEMPT_NO, LINE, PLACE = 0, 1, 2, 3, 4

# The cells: time in ISO 8601 UTC, member id, display name, pack, problem, choice, right or
# wrong, points, hint used, attempt number, mode. Pack and problem ids match the bank's
# ID_PATTERN (checked at load) and choices are letters; the name and the choice are quoted,
# double quotes doubled (printf's %w), so commas, quotes and newlines survive (RFC 4180).
COLUMNS = ("time_utc", "member_id", "display_name", "pack", "problem", "choice", "result",
           "points", "hint_used", "attempt", "mode")
LINE_FORMAT = "'%s,%d,\"%w\",%s,%s,\"%w\",%s,%d,%s,%d,%s' || char(13, 10)"
# A name starting with = + - @ tab or CR would be a formula to a spreadsheet (OWASP, CSV
# injection): it gets a leading apostrophe, which spreadsheets show as text.
SAFE_TEXT = ("CASE WHEN substr({0}, 1, 1) IN ('=', '+', '-', '@', char(9), char(13))"
             " THEN '''' || {0} ELSE {0} END")


def csv_line(time: str, member: str, name: str, pack: str, problem: str, choice: str,
             correct: str, points: str, hint: str, attempt: str, mode: str) -> str:
    """The SQL expression of one CSV line (CRLF-ended) from the cells' expressions: one
    printf, the cheapest way SQLite has to build it."""
    cells = (f"strftime('%Y-%m-%dT%H:%M:%fZ', {time}, 'unixepoch')", member,
             SAFE_TEXT.format(f"coalesce({name}, '')"), pack, problem,
             choice, f"CASE WHEN {correct} THEN 'right' ELSE 'wrong' END",
             points, f"CASE WHEN {hint} THEN 'yes' ELSE 'no' END", attempt, mode)
    return f"printf({LINE_FORMAT}, {', '.join(cells)})"


CHALLENGE_HINT = ("EXISTS (SELECT 1 FROM hints h WHERE h.challenge_id = a.challenge_id"
                  " AND h.member_id = a.member_id AND h.revealed_at <= a.answered_at)")
CHALLENGE_LINE = csv_line("a.answered_at", "a.member_id", "a.display_name", "c.pack_id",
                          "c.problem_id", "a.choice", "a.correct", "a.points", CHALLENGE_HINT,
                          "a.attempt_no", "'challenge'")
CHALLENGE_ATTEMPTS = f"""
SELECT a.answered_at, a.member_id, a.attempt_no, {CHALLENGE_LINE}, c.deadline, c.id
FROM challenges c JOIN attempts a ON a.challenge_id = c.id
WHERE c.guild_id = :guild AND c.deadline >= :since
  AND (c.deadline, c.id) >= (:deadline, :challenge)
  AND (c.deadline, c.id, a.member_id, a.attempt_no) > (:deadline, :challenge, :member, :attempt)
ORDER BY c.deadline, c.id, a.member_id, a.attempt_no
LIMIT :limit
"""

# A run names its pack only for a badge run or a filtered practice; the others' pack comes
# from the bank through bank_pack(), a function registered on the connection for the unit.
RUN_LINE = csv_line("ra.answered_at", "r.member_id", "ra.display_name",
                    "coalesce(r.pack_id, bank_pack(ra.problem_id))", "ra.problem_id",
                    "ra.choice", "ra.correct", "ra.points", "ra.hint_used", "ra.attempt_no",
                    "r.mode")
RUN_ATTEMPTS = f"""
SELECT ra.answered_at, r.member_id, ra.attempt_no, {RUN_LINE}, r.id, ra.position, r.mode
FROM runs r JOIN run_attempts ra ON ra.run_id = r.id
WHERE r.guild_id = :guild
  AND (r.member_id, r.mode, r.id) >= (:member, :mode, :run)
  AND (r.member_id, r.mode, r.id, ra.position, ra.attempt_no)
      > (:member, :mode, :run, :position, :attempt)
ORDER BY r.member_id, r.mode, r.id, ra.position, ra.attempt_no
LIMIT :limit
"""


@dataclass(frozen=True)
class ChallengeCursor:
    """Where the next chunk of challenge attempts starts: after this attempt."""

    deadline: float = -inf
    challenge: int = 0
    member: int = 0
    attempt: int = 0


@dataclass(frozen=True)
class RunCursor:
    """Where the next chunk of run attempts starts: after this attempt."""

    member: int = -1
    mode: str = ""
    run: int = 0
    position: int = -1
    attempt: int = 0


@dataclass(frozen=True)
class Chunk:
    rows: list[ExportRow]  # the attempts at or after `since`, in reading order
    next: ChallengeCursor | RunCursor | None  # None: nothing more to read


class ExportRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def challenge_attempts(self, guild_id: int, since: float, after: ChallengeCursor,
                                 limit: int) -> Chunk:
        if after.deadline < since:  # the first chunk: start at the period, not before
            after = ChallengeCursor(since)
        params = {"guild": guild_id, "since": since, "deadline": after.deadline,
                  "challenge": after.challenge, "member": after.member,
                  "attempt": after.attempt, "limit": limit}
        return await self.db.run(
            lambda c: _chunk(c, CHALLENGE_ATTEMPTS, params, since, _challenge_cursor))

    async def run_attempts(self, guild_id: int, since: float, after: RunCursor, limit: int,
                           packs: Mapping[str, str]) -> Chunk:
        """`packs`: each problem's pack, for the runs that name none."""
        params = {"guild": guild_id, "member": after.member, "mode": after.mode,
                  "run": after.run, "position": after.position, "attempt": after.attempt,
                  "limit": limit}

        def read(conn: sqlite3.Connection) -> Chunk:
            conn.create_function("bank_pack", 1, lambda problem: packs.get(problem, ""),
                                 deterministic=True)
            return _chunk(conn, RUN_ATTEMPTS, params, since, _run_cursor)
        return await self.db.run(read)


def _chunk(conn: sqlite3.Connection, sql: str, params: dict[str, Any], since: float,
           cursor_of: Callable[[ExportRow], ChallengeCursor | RunCursor]) -> Chunk:
    cursor = conn.cursor()
    cursor.row_factory = None  # plain tuples: no per-row objects to spare
    found = cursor.execute(sql, params).fetchall()
    rows = [row for row in found if row[ANSWERED_AT] >= since] if since > -inf else found
    more = cursor_of(found[-1]) if len(found) == params["limit"] else None
    return Chunk(rows, more)


def _challenge_cursor(row: ExportRow) -> ChallengeCursor:
    return ChallengeCursor(row[PLACE], row[PLACE + 1], row[MEMBER_ID], row[ATTEMPT_NO])


def _run_cursor(row: ExportRow) -> RunCursor:
    return RunCursor(row[MEMBER_ID], row[PLACE + 2], row[PLACE], row[PLACE + 1],
                     row[ATTEMPT_NO])
