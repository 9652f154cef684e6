"""Item analysis for organisers: tallies kept per counted attempt, read per problem.

The observer below sees every stored attempt (bot/store/answers.py) and keeps, for the
counted modes only (group challenges and badge runs), what /stats needs in small tables
(migration 0009): per member and problem, per member, per first-attempt choice, and the
seconds to each right answer. A pack's figures are then a few indexed reads, whatever the
size of the history. Definitions are in bot/core/insight.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.store.batch_sql import arrays, unnest
from bot.store.db import LARGER, Conn, Database, Row, dialect
from bot.store.records import AttemptFact

# Timed and scored; practice and review (untimed, unlimited tries) would blur the figures.
COUNTED_MODES = frozenset({"challenge", "badge_run"})

# A fact with attempt_no 1 opens a response. A hint counts once per response: hint_open
# remembers that the member's latest response on this problem is already counted.
# (In an upsert's SET, the table's name is the row as it was before the update.)
_MEMBER_UPSERT = (
    "INSERT INTO item_members (guild_id, problem_id, member_id, responses, badge_responses,"
    " correct, hinted, hint_open)"
    " VALUES (:guild, :problem, :member, :new, :new_badge, :correct, :hint, :hint)"
    " ON CONFLICT (guild_id, problem_id, member_id) DO UPDATE SET"
    " responses = item_members.responses + excluded.responses,"
    " badge_responses = item_members.badge_responses + excluded.badge_responses,"
    " correct = item_members.correct + excluded.correct,"
    " hinted = item_members.hinted + CASE WHEN excluded.hint_open <> 0"
    " AND (excluded.responses <> 0 OR item_members.hint_open = 0) THEN 1 ELSE 0 END,"
    " hint_open = CASE WHEN excluded.responses <> 0 THEN excluded.hint_open ELSE "
    + LARGER.format("item_members.hint_open", "excluded.hint_open") + " END")
_TOTALS_UPSERT = (
    "INSERT INTO item_member_totals (guild_id, member_id, responses, correct)"
    " VALUES (:guild, :member, :new, :correct)"
    " ON CONFLICT (guild_id, member_id) DO UPDATE SET"
    " responses = item_member_totals.responses + excluded.responses,"
    " correct = item_member_totals.correct + excluded.correct")
_PICK_UPSERT = (
    "INSERT INTO item_picks (guild_id, problem_id, choice, picks, correct)"
    " VALUES (:guild, :problem, :choice, 1, :correct)"
    " ON CONFLICT (guild_id, problem_id, choice) DO UPDATE SET"
    " picks = item_picks.picks + 1, correct = item_picks.correct + excluded.correct")
_TIME_INSERT = (
    "INSERT INTO item_times (guild_id, problem_id, elapsed) VALUES (:guild, :problem, :elapsed)")

# The same tallies a batch at a time (PostgreSQL), in one statement: each row's attempts
# added up first (MemberTally), then one part per table. An item_members row that another
# transaction inserts after the UPDATE missed it fails the INSERT, and the batch is redone
# one answer at a time.
_TALLY_BATCH = (
    "WITH d AS (SELECT * FROM " + unnest("bigint", "text", "bigint", *["int"] * 7)
    + " AS d(guild_id, problem_id, member_id, responses, badge_responses, correct, hinted,"
    "  if_closed, hint_open, keep)),"
    " updated AS (UPDATE item_members AS i SET responses = i.responses + d.responses,"
    "  badge_responses = i.badge_responses + d.badge_responses,"
    "  correct = i.correct + d.correct,"
    "  hinted = i.hinted + d.hinted + CASE WHEN i.hint_open = 0 THEN d.if_closed ELSE 0 END,"
    "  hint_open = CASE WHEN d.keep = 1 THEN i.hint_open ELSE d.hint_open END"
    "  FROM d WHERE i.guild_id = d.guild_id AND i.problem_id = d.problem_id"
    "  AND i.member_id = d.member_id RETURNING i.guild_id, i.problem_id, i.member_id),"
    # a new row: as if after a row whose hint_open was 0
    " inserted AS (INSERT INTO item_members (guild_id, problem_id, member_id, responses,"
    "  badge_responses, correct, hinted, hint_open) SELECT d.guild_id, d.problem_id,"
    "  d.member_id, d.responses, d.badge_responses, d.correct, d.hinted + d.if_closed,"
    "  CASE WHEN d.keep = 1 THEN 0 ELSE d.hint_open END FROM d WHERE NOT EXISTS"
    "  (SELECT 1 FROM updated u WHERE u.guild_id = d.guild_id"
    "  AND u.problem_id = d.problem_id AND u.member_id = d.member_id)),"
    " totals AS (INSERT INTO item_member_totals (guild_id, member_id, responses, correct)"
    "  SELECT * FROM " + unnest("bigint", "bigint", "int", "int")
    + "  ON CONFLICT (guild_id, member_id) DO UPDATE SET"
    "  responses = item_member_totals.responses + excluded.responses,"
    "  correct = item_member_totals.correct + excluded.correct),"
    " picks AS (INSERT INTO item_picks (guild_id, problem_id, choice, picks, correct)"
    "  SELECT * FROM " + unnest("bigint", "text", "text", "int", "int")
    + "  ON CONFLICT (guild_id, problem_id, choice) DO UPDATE SET"
    "  picks = item_picks.picks + excluded.picks,"
    "  correct = item_picks.correct + excluded.correct),"
    " times AS (INSERT INTO item_times (guild_id, problem_id, elapsed)"
    "  SELECT * FROM " + unnest("bigint", "text", "float8") + ")"
    " SELECT 1")


@dataclass(frozen=True)
class CorrelationSums:
    """Sums over a problem's responses, from members who answered other problems too, of
    X (right in the end, 0/1) and Y (that member's share right on their other responses)."""

    n: int = 0
    sum_x: int = 0  # X is 0 or 1, so this is also the sum of X squared
    sum_y: float = 0.0
    sum_yy: float = 0.0
    sum_xy: float = 0.0


@dataclass(frozen=True)
class ItemTallies:
    """One problem's counted history in one server, as the store keeps it."""

    problem_id: str
    asked: int = 0
    responses: int = 0
    first_right: int = 0
    end_right: int = 0
    hinted: int = 0
    picks: Mapping[str, int] = field(default_factory=dict)  # first attempts per choice
    median_right_s: float | None = None
    sums: CorrelationSums = CorrelationSums()


def fact_params(fact: AttemptFact) -> dict[str, Any]:
    new = int(fact.attempt_no == 1)
    return {"guild": fact.guild_id, "problem": fact.problem_id, "member": fact.member_id,
            "new": new, "new_badge": new * (fact.mode == "badge_run"),
            "correct": int(fact.correct), "hint": int(fact.hint_used), "choice": fact.choice,
            "elapsed": fact.elapsed}


def record_attempts(conn: Conn, facts: Iterable[AttemptFact]) -> None:
    """Adds counted attempts, in the order given, to the tallies. Each statement runs over
    all of them in turn: the tables are independent, so that equals one attempt at a time."""
    params = [fact_params(f) for f in facts if f.mode in COUNTED_MODES]
    if not params:
        return
    conn.executemany(_MEMBER_UPSERT, params)
    conn.executemany(_TOTALS_UPSERT, params)
    conn.executemany(_PICK_UPSERT, [p for p in params if p["new"]])
    conn.executemany(_TIME_INSERT, [p for p in params if p["correct"]])


class MemberTally:
    """What a run of attempts adds to one item_members row, as _MEMBER_UPSERT would add them
    one at a time. Whether a hint counts hangs on the row's hint_open before the run only
    until the run's first attempt that opens a response or shows a hint: `keep` until then,
    and `if_closed`, the hint counted only if the row's response was not counted yet."""

    def __init__(self) -> None:
        self.responses = self.badge_responses = self.correct = self.hinted = 0
        self.if_closed = self.hint_open = 0
        self.keep = True

    def add(self, p: dict[str, Any]) -> None:
        self.responses += p["new"]
        self.badge_responses += p["new_badge"]
        self.correct += p["correct"]
        if self.keep and not p["new"]:
            if p["hint"]:
                self.if_closed, self.hint_open, self.keep = 1, 1, False
            return
        self.hinted += int(bool(p["hint"]) and (bool(p["new"]) or self.hint_open == 0))
        self.hint_open = p["hint"] if p["new"] else max(self.hint_open, p["hint"])
        self.keep = False

    def columns(self) -> tuple[int, ...]:
        """What _TALLY_BATCH takes for this row."""
        return (self.responses, self.badge_responses, self.correct, self.hinted,
                self.if_closed, self.hint_open, int(self.keep))


def record_attempts_together(conn: Conn, facts: Iterable[AttemptFact]) -> None:
    """What record_attempts does, in one statement (PostgreSQL): see _TALLY_BATCH."""
    members: dict[tuple[int, str, int], MemberTally] = {}
    totals: dict[tuple[int, int], list[int]] = {}
    picks: dict[tuple[int, str, str], list[int]] = {}
    times: list[tuple[int, str, float]] = []
    for p in (fact_params(f) for f in facts if f.mode in COUNTED_MODES):
        members.setdefault((p["guild"], p["problem"], p["member"]), MemberTally()).add(p)
        _add(totals.setdefault((p["guild"], p["member"]), [0, 0]), p["new"], p["correct"])
        if p["new"]:
            _add(picks.setdefault((p["guild"], p["problem"], p["choice"]), [0, 0]), 1,
                 p["correct"])
        if p["correct"]:
            times.append((p["guild"], p["problem"], p["elapsed"]))
    if members:
        conn.execute(_TALLY_BATCH, (
            *arrays(((*key, *tally.columns()) for key, tally in members.items()), 10),
            *arrays(((*k, *v) for k, v in totals.items()), 4),
            *arrays(((*k, *v) for k, v in picks.items()), 5), *arrays(times, 3)))


def _add(counts: list[int], *values: int) -> None:
    for n, value in enumerate(values):
        counts[n] += value


class ItemStatsRepo:
    """Keeps the tallies as an attempt observer, and reads them per problem."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def on_attempt(self, conn: Conn, fact: AttemptFact) -> None:
        record_attempts(conn, (fact,))

    def on_attempts(self, conn: Conn, facts: Sequence[AttemptFact]) -> None:
        if dialect(conn) == "postgres":
            record_attempts_together(conn, facts)
        else:
            record_attempts(conn, facts)

    async def tallies(self, guild_id: int, problem_ids: Sequence[str]) -> list[ItemTallies]:
        """One entry per problem id, in the order given; all read in one hop."""
        ids = list(dict.fromkeys(problem_ids))
        return await self.db.run(lambda c: read_tallies(c, guild_id, ids))


def read_tallies(conn: Conn, guild_id: int,
                 problem_ids: list[str]) -> list[ItemTallies]:
    if not problem_ids:
        return []
    members = _member_sums(conn, guild_id, problem_ids)
    asked = _challenge_askings(conn, guild_id, problem_ids)
    picks = _picks(conn, guild_id, problem_ids)
    result = []
    for pid in problem_ids:
        row = members.get(pid)
        if row is None:
            result.append(ItemTallies(pid, asked=asked.get(pid, 0)))
            continue
        chosen, first_right = picks.get(pid, ({}, 0))
        result.append(ItemTallies(
            pid, asked=asked.get(pid, 0) + row["badge"], responses=row["responses"],
            first_right=first_right, end_right=row["correct"], hinted=row["hinted"],
            picks=chosen, median_right_s=_median_time(conn, guild_id, pid, row["correct"]),
            sums=CorrelationSums(row["n"], row["sx"], row["sy"] or 0.0, row["syy"] or 0.0,
                                 row["sxy"] or 0.0)))
    return result


def _in_list(ids: list[str]) -> str:
    return ", ".join("?" * len(ids))


def _member_sums(conn: Conn, guild_id: int,
                 ids: list[str]) -> dict[str, Row]:
    """Per problem, the response counts and the correlation sums in one GROUP BY. A member's
    y = (C_m - c_mp) / (T_m - a_mp); members with no other responses have y NULL, are left
    out of n and the sums (sum() skips NULL)."""
    rows = conn.execute(
        "SELECT problem_id, sum(responses) AS responses, sum(badge_responses) AS badge,"
        " sum(correct) AS correct, sum(hinted) AS hinted,"
        " sum(CASE WHEN y IS NULL THEN 0 ELSE responses END) AS n,"
        " sum(CASE WHEN y IS NULL THEN 0 ELSE correct END) AS sx,"
        " sum(responses * y) AS sy, sum(responses * y * y) AS syy, sum(correct * y) AS sxy"
        " FROM (SELECT i.problem_id, i.responses, i.badge_responses, i.correct, i.hinted,"
        "  CAST(t.correct - i.correct AS DOUBLE PRECISION)"
        "  / nullif(t.responses - i.responses, 0) AS y"
        "  FROM item_members i JOIN item_member_totals t"
        "  ON t.guild_id = i.guild_id AND t.member_id = i.member_id"
        f"  WHERE i.guild_id = ? AND i.problem_id IN ({_in_list(ids)})) AS per_member"
        " GROUP BY problem_id", (guild_id, *ids)).fetchall()
    return {r["problem_id"]: r for r in rows}


def _challenge_askings(conn: Conn, guild_id: int, ids: list[str]) -> dict[str, int]:
    """Challenges of each problem that at least one member answered (badge-run steps are
    counted with the responses: each has one member)."""
    rows = conn.execute(
        "SELECT problem_id, count(*) FROM challenges WHERE guild_id = ? AND answered_count > 0"
        f" AND problem_id IN ({_in_list(ids)}) GROUP BY problem_id", (guild_id, *ids))
    return {pid: n for pid, n in rows}


def _picks(conn: Conn, guild_id: int,
           ids: list[str]) -> dict[str, tuple[dict[str, int], int]]:
    """Per problem: first attempts per choice, and how many first attempts were right."""
    found: dict[str, tuple[dict[str, int], int]] = {}
    rows = conn.execute(
        "SELECT problem_id, choice, picks, correct FROM item_picks WHERE guild_id = ?"
        f" AND problem_id IN ({_in_list(ids)}) ORDER BY problem_id, choice", (guild_id, *ids))
    for pid, choice, picks, correct in rows:
        chosen, right = found.get(pid, ({}, 0))
        chosen[choice] = picks
        found[pid] = (chosen, right + correct)
    return found


def _median_time(conn: Conn, guild_id: int, problem_id: str,
                 right: int) -> float | None:
    """The median of the `right` stored times, read straight off the index."""
    if right <= 0:
        return None
    rows = conn.execute(
        "SELECT elapsed FROM item_times WHERE guild_id = ? AND problem_id = ?"
        " ORDER BY elapsed LIMIT ? OFFSET ?",
        (guild_id, problem_id, 2 - right % 2, (right - 1) // 2)).fetchall()
    return sum(r[0] for r in rows) / len(rows) if rows else None
