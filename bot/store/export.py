"""Every attempt of one server, read in chunks for /export.

Each chunk is one short unit on the connection's thread (the thread members' clicks share),
read by keyset pagination along an index, so a chunk costs the same early or late in the
export and no statement stays open between chunks. A chunk reads at most `limit` attempts;
those before `since` are dropped after reading, so a narrow period never turns one chunk
into a scan of the server's whole history.

The order is the indexes' own, so nothing is sorted: challenge attempts first, challenge by
challenge in order of deadline (along challenges_by_guild_deadline), each challenge's by
member and attempt; then private-run attempts, run by run in order of start (along
runs_by_guild_start, migration 0010), each run's by position and attempt. An attempt counts
only while its challenge is open, so one answered at or after `since` belongs to a challenge
whose deadline is at or after it (see bot/store/weekly.py); a run has no such bound, since a
practice may stay open for days.
"""


from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from math import inf
from typing import Any

from bot.store.db import Conn, Database

# The cells: time in ISO 8601 UTC, member id, display name, pack, problem, choice, right or
# wrong, points, hint used, attempt number, mode. Pack and problem ids match the bank's
# ID_PATTERN (checked at load) and choices are letters; the name and the choice are quoted,
# double quotes doubled, so commas, quotes and newlines survive (RFC 4180). A line is one
# call of each dialect's cheapest way to build it: SQLite's printf (its %w doubles the
# quotes), PostgreSQL's format (a replace() doubles them first).
COLUMNS = ("time_utc", "member_id", "display_name", "pack", "problem", "choice", "result",
           "points", "hint_used", "attempt", "mode")
CRLF = "\r\n"  # the characters themselves inside the SQL string: both dialects take them
LINE_FORMAT = {
    "sqlite": f"'%s,%d,\"%w\",%s,%s,\"%w\",%s,%d,%s,%d,%s{CRLF}'",
    "postgres": f"'%s,%s,\"%s\",%s,%s,\"%s\",%s,%s,%s,%s,%s{CRLF}'",
}
# PostgreSQL's milliseconds are rounded with the same double arithmetic as SQLite's
# strftime (whose unixepoch adds the epoch's Julian-day milliseconds, then 0.5, then cuts):
# the same instant reads the same in either file. to_char alone would cut them.
TIME_UTC = {
    "sqlite": "strftime('%Y-%m-%dT%H:%M:%fZ', {0}, 'unixepoch')",
    "postgres": "to_char(to_timestamp((floor({0} * 1000 + 210866760000000 + 0.5)"
                " - 210866760000000) / 1000) AT TIME ZONE 'UTC',"
                " 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')",
}
# A name starting with = + - @ tab or CR would be a formula to a spreadsheet (OWASP, CSV
# injection): it gets a leading apostrophe, which spreadsheets show as text.
SAFE_TEXT = ("CASE WHEN substr({0}, 1, 1) IN ('=', '+', '-', '@', '\t', '\r')"
             " THEN '''' || {0} ELSE {0} END")


def csv_line(dialect: str, time: str, member: str, name: str, pack: str, problem: str,
             choice: str, correct: str, points: str, hint: str, attempt: str,
             mode: str) -> str:
    """The SQL expression of one CSV line (CRLF-ended) from the cells' expressions;
    `correct` and `hint` are conditions."""
    name = SAFE_TEXT.format(f"coalesce({name}, '')")
    if dialect == "postgres":  # format() has no %w
        name, choice = (f"replace({cell}, '\"', '\"\"')" for cell in (name, choice))
    cells = (TIME_UTC[dialect].format(time), member, name, pack, problem, choice,
             f"CASE WHEN {correct} THEN 'right' ELSE 'wrong' END", points,
             f"CASE WHEN {hint} THEN 'yes' ELSE 'no' END", attempt, mode)
    function = "printf" if dialect == "sqlite" else "format"
    return f"{function}({LINE_FORMAT[dialect]}, {', '.join(cells)})"


CHALLENGE_HINT = ("EXISTS (SELECT 1 FROM hints h WHERE h.challenge_id = a.challenge_id"
                  " AND h.member_id = a.member_id AND h.revealed_at <= a.answered_at)")
CHALLENGE_ATTEMPTS = """
SELECT a.answered_at, {line} AS line,
       c.deadline AS k1, c.id AS k2, a.member_id AS k3, a.attempt_no AS k4
FROM challenges c JOIN attempts a ON a.challenge_id = c.id
WHERE c.guild_id = :guild AND c.deadline >= :since
  AND (c.deadline, c.id) >= (:k1, :k2)
  AND (c.deadline, c.id, a.member_id, a.attempt_no) > (:k1, :k2, :k3, :k4)
ORDER BY c.deadline, c.id, a.member_id, a.attempt_no
LIMIT :limit
"""

# A run names its pack only for a badge run or a filtered practice; the others' pack comes
# from the bank: on SQLite through bank_pack(), a function registered on the connection for
# the unit; on PostgreSQL from the same map passed as a JSON parameter.
RUN_PACK = {
    "sqlite": "coalesce(r.pack_id, bank_pack(ra.problem_id))",
    "postgres": "coalesce(r.pack_id, CAST(:packs AS jsonb) ->> ra.problem_id, '')",
}
RUN_ATTEMPTS = """
SELECT ra.answered_at, {line} AS line,
       r.started_at AS k1, r.id AS k2, ra.position AS k3, ra.attempt_no AS k4
FROM runs r JOIN run_attempts ra ON ra.run_id = r.id
WHERE r.guild_id = :guild
  AND (r.started_at, r.id) >= (:k1, :k2)
  AND (r.started_at, r.id, ra.position, ra.attempt_no) > (:k1, :k2, :k3, :k4)
ORDER BY r.started_at, r.id, ra.position, ra.attempt_no
LIMIT :limit
"""


def attempts_sql(dialect: str, source: str) -> str:
    """The keyset read of one chunk's attempts, `source` 'challenge' or 'run'."""
    if source == "challenge":
        line = csv_line(dialect, "a.answered_at", "a.member_id", "a.display_name",
                        "c.pack_id", "c.problem_id", "a.choice", "a.correct = 1", "a.points",
                        CHALLENGE_HINT, "a.attempt_no", "'challenge'")
        return CHALLENGE_ATTEMPTS.format(line=line)
    line = csv_line(dialect, "ra.answered_at", "r.member_id", "ra.display_name",
                    RUN_PACK[dialect], "ra.problem_id", "ra.choice", "ra.correct = 1",
                    "ra.points", "ra.hint_used = 1", "ra.attempt_no", "r.mode")
    return RUN_ATTEMPTS.format(line=line)


# A chunk comes back as one row: its lines joined by the database (a million rows through
# Python's sqlite3 one by one cost seconds), the attempts read, and the last one's key. The
# attempts come numbered in the order the inner query returns them, LIMIT before the
# aggregate; tests pin that order. SQLite reads the last key as the bare columns beside
# max(n); PostgreSQL has no bare columns and picks that row by its number.
CHUNK = {
    "sqlite": """
SELECT coalesce(group_concat(line, '') FILTER (WHERE answered_at >= :since), ''), count(*),
       max(n), k1, k2, k3, k4, count(*) FILTER (WHERE answered_at >= :since){counts}
FROM (SELECT row_number() OVER () AS n, * FROM ({attempts}))
""",
    "postgres": """
SELECT coalesce(string_agg(line, '' ORDER BY n) FILTER (WHERE answered_at >= :since), ''),
       count(*), max(n), max(k1) FILTER (WHERE n = last_n), max(k2) FILTER (WHERE n = last_n),
       max(k3) FILTER (WHERE n = last_n), max(k4) FILTER (WHERE n = last_n),
       count(*) FILTER (WHERE answered_at >= :since){counts}
FROM (SELECT row_number() OVER (ORDER BY k1, k2, k3, k4) AS n, count(*) OVER () AS last_n, *
      FROM ({attempts}) AS page) AS numbered
""",
}
@dataclass(frozen=True)
class Cursor:
    """Where the next chunk starts: after this attempt's key (challenge attempts: deadline,
    challenge, member, attempt; run attempts: start, run, position, attempt)."""

    key: tuple[float, int, int, int] = (-inf, 0, 0, 0)


@dataclass(frozen=True)
class Chunk:
    lines: str  # the CSV lines of the attempts at or after `since`, in reading order
    counts: tuple[int, ...]  # attempts at or after each of `since` and the `starts` given
    next: Cursor | None  # None: nothing more to read



class ExportRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def challenge_attempts(self, guild_id: int, since: float, after: Cursor,
                                 limit: int, starts: Sequence[float] = ()) -> Chunk:
        """`starts`: instants after `since` whose attempts are counted too."""
        if after.key[0] < since:  # the first chunk: start at the period, not before
            after = Cursor((since, 0, 0, 0))
        sql = chunk_sql(self.db.dialect, "challenge", len(starts))
        params = _params(guild_id, since, after, limit, starts)
        return await self.db.run(lambda c: _chunk(c, sql, params))

    async def run_attempts(self, guild_id: int, since: float, after: Cursor, limit: int,
                           packs: Mapping[str, str], starts: Sequence[float] = ()) -> Chunk:
        """`packs`: each problem's pack, for the runs that name none."""
        sql = chunk_sql(self.db.dialect, "run", len(starts))
        params = _params(guild_id, since, after, limit, starts)
        if self.db.dialect == "postgres":
            params["packs"] = json.dumps(dict(packs))
            return await self.db.run(lambda c: _chunk(c, sql, params))

        def read(conn: sqlite3.Connection) -> Chunk:
            conn.create_function("bank_pack", 1, lambda problem: packs.get(problem, ""),
                                 deterministic=True)
            return _chunk(conn, sql, params)
        return await self.db.run(read)


@lru_cache(maxsize=64)
def chunk_sql(dialect: str, source: str, starts: int) -> str:
    counts = "".join(f", count(*) FILTER (WHERE answered_at >= :start{i})"
                     for i in range(starts))
    return CHUNK[dialect].format(attempts=attempts_sql(dialect, source), counts=counts)


def _params(guild_id: int, since: float, after: Cursor, limit: int,
            starts: Sequence[float]) -> dict[str, Any]:
    k1, k2, k3, k4 = after.key
    return {"guild": guild_id, "since": since, "k1": k1, "k2": k2, "k3": k3, "k4": k4,
            "limit": limit, **{f"start{i}": start for i, start in enumerate(starts)}}


def _chunk(conn: Conn, sql: str, params: dict[str, Any]) -> Chunk:
    lines, read, _, k1, k2, k3, k4, *counts = conn.execute(sql, params).fetchone()
    more = Cursor((k1, k2, k3, k4)) if read == params["limit"] else None
    return Chunk(lines, tuple(counts), more)
