"""Private runs (practice, badge runs, reviews): their rows, and each answer recorded in one
transaction with the run's position, so a double click or a restart never counts twice."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from bot.store.answers import AttemptObserver
from bot.store.db import Conn, Database, Row
from bot.store.records import (
    AttemptFact,
    PracticeFigures,
    Run,
    RunMissing,
    RunStep,
    StepOutcome,
    StepState,
    Verdict,
)


class RunRules(Protocol):
    """The core's rules for one answer, applied inside the transaction."""

    def check(self, run: Run, member_id: int, position: int) -> None: ...

    def judge(self, run: Run, state: StepState, choice: str, now: float) -> Verdict | None:
        """The verdict, or None when the problem's time had run out."""

    def fact(self, run: Run, state: StepState, verdict: Verdict, now: float) -> AttemptFact: ...

    def mastery_badge(self, run: Run) -> str | None:
        """The badge a run with every problem right earns, if any."""


# How many problems a run's comma-separated list holds.
COUNT = ("(CASE WHEN problem_ids = '' THEN 0"
         " ELSE length(problem_ids) - length(replace(problem_ids, ',', '')) + 1 END)")


def run_from_row(row: Row) -> Run:
    return Run(id=row["id"], guild_id=row["guild_id"], member_id=row["member_id"],
               mode=row["mode"], pack_id=row["pack_id"], kind=row["kind"],
               problem_ids=tuple(p for p in row["problem_ids"].split(",") if p),
               position=row["position"], step_started_at=row["step_started_at"],
               started_at=row["started_at"], ended_at=row["ended_at"], status=row["status"])


def get_run(conn: Conn, run_id: int) -> Run:
    row = conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
    if row is None:
        raise RunMissing(run_id)
    return run_from_row(row)


class RunRepo:
    def __init__(self, db: Database, observers: Sequence[AttemptObserver]) -> None:
        self.db = db
        self.observers = observers  # the store's list: told of every run attempt too

    async def create(self, *, guild_id: int, member_id: int, mode: str, pack_id: str | None,
                     kind: str | None, problem_ids: Sequence[str], now: float) -> Run | None:
        """A new run whose first problem is shown now; None if the member already has a
        badge run going (one at a time, whatever reaches the database)."""
        def create(conn: Conn) -> Run | None:
            # A second badge run meets the one-active index and comes back as no row (not
            # as an error caught: that would leave a PostgreSQL transaction aborted).
            row = conn.execute(
                "INSERT INTO runs (guild_id, member_id, mode, pack_id, kind, problem_ids,"
                " step_started_at, started_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT DO NOTHING RETURNING *",
                (guild_id, member_id, mode, pack_id, kind, ",".join(problem_ids), now,
                 now)).fetchone()
            return run_from_row(row) if row else None
        return await self.db.transaction(create)

    async def get(self, run_id: int) -> Run:
        return await self.db.run(lambda c: get_run(c, run_id))

    async def active_badge_run(self, guild_id: int, member_id: int) -> tuple[Run, float] | None:
        """The member's badge run in progress, and when it was last touched."""
        row = await self.db.fetchone(
            "SELECT r.*, (SELECT max(answered_at) FROM run_attempts a WHERE a.run_id = r.id)"
            " AS last_answer FROM runs r WHERE guild_id = ? AND member_id = ?"
            " AND mode = 'badge_run' AND status = 'active'", (guild_id, member_id))
        if row is None:
            return None
        touched = max(row["started_at"], row["step_started_at"] or 0, row["last_answer"] or 0)
        return run_from_row(row), touched

    async def abandon(self, run_id: int, now: float) -> bool:
        return await self.db.execute(
            "UPDATE runs SET status = 'abandoned', ended_at = ? WHERE id = ? AND status = 'active'",
            (now, run_id)) == 1

    async def finish(self, run_id: int, now: float) -> bool:
        return await self.db.execute(
            "UPDATE runs SET status = 'finished', ended_at = ? WHERE id = ? AND status = 'active'",
            (now, run_id)) == 1

    async def show(self, run_id: int, now: float, append: str | None = None) -> Run:
        """Shows the current problem: its timer starts now unless it was shown before.
        `append` adds a problem first (practice draws one at a time)."""
        def show(conn: Conn) -> Run:
            if append is not None:  # only while every problem so far is done: a second
                # Next pressed at the same moment draws nothing more
                conn.execute("UPDATE runs SET problem_ids = problem_ids ||"
                             " CASE WHEN problem_ids = '' THEN ? ELSE ',' || ? END"
                             " WHERE id = ? AND status = 'active' AND position >= " + COUNT,
                             (append, append, run_id))
            conn.execute("UPDATE runs SET step_started_at = ? WHERE id = ?"
                         " AND step_started_at IS NULL AND status = 'active'", (now, run_id))
            return get_run(conn, run_id)
        return await self.db.transaction(show)

    async def skip(self, run_id: int, position: int, now: float) -> Run:
        """Moves past a problem left unanswered: its time ran out while the member was
        away, or an upgrade removed it."""
        def skip(conn: Conn) -> Run:
            run = get_run(conn, run_id)
            return _advance(conn, run, now) if run.active and run.position == position else run
        return await self.db.transaction(skip)

    async def hint(self, run_id: int, position: int, now: float) -> bool:
        """Records the hint on this problem; True the first time."""
        return await self.db.execute(
            "INSERT INTO run_hints (run_id, position, revealed_at) VALUES (?, ?, ?)"
            " ON CONFLICT DO NOTHING",
            (run_id, position, now)) == 1

    async def state(self, run_id: int, position: int) -> StepState:
        return await self.db.run(lambda c: step_state(c, run_id, position))

    async def answer(self, run_id: int, member_id: int, position: int, choice: str, now: float,
                     submission_id: str, display_name: str | None,
                     rules: RunRules) -> StepOutcome:
        """Records one answer; committed before this returns."""
        return await self.db.transaction(lambda c: self._answer(
            c, run_id, member_id, position, choice, now, submission_id, display_name, rules))

    def _answer(self, conn: Conn, run_id: int, member_id: int, position: int,
                choice: str, now: float, submission_id: str, display_name: str | None,
                rules: RunRules) -> StepOutcome:
        replay = _replayed(conn, run_id, submission_id)
        if replay is not None:
            return replay
        run = get_run(conn, run_id)
        rules.check(run, member_id, position)
        problem_id = run.problem_ids[position]
        state = step_state(conn, run_id, position)
        verdict = rules.judge(run, state, choice, now)
        if verdict is None:
            return StepOutcome(_advance(conn, run, now), problem_id, None, timed_out=True)
        conn.execute(
            "INSERT INTO run_attempts (run_id, position, problem_id, attempt_no, choice, correct,"
            " points, hint_used, answered_at, elapsed, display_name, submission_id)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (run_id, position, problem_id, verdict.attempt_no, verdict.choice,
             int(verdict.correct), verdict.points, int(state.hint_used), now, verdict.elapsed,
             display_name, submission_id))
        fact = rules.fact(run, state, verdict, now)
        for observer in self.observers:
            observer.on_attempt(conn, fact)
        if not verdict.final:
            return StepOutcome(run, problem_id, verdict)
        after = _advance(conn, run, now)
        badge = rules.mastery_badge(after)
        earned = (after.status == "finished" and badge is not None
                  and _all_right(conn, after) and _award(conn, after, badge, now))
        return StepOutcome(after, problem_id, verdict,
                           new_badges=(badge,) if earned and badge else ())

    async def steps(self, run: Run) -> list[RunStep]:
        """Each problem of the run so far, for its summary."""
        rows = await self.db.fetchall(
            "SELECT position, count(*) AS attempts, max(correct) AS correct, sum(points) AS"
            " points, max(hint_used) AS hint_used, max(elapsed) AS seconds FROM run_attempts"
            " WHERE run_id = ? GROUP BY position", (run.id,))
        hints = {r[0] for r in await self.db.fetchall(
            "SELECT position FROM run_hints WHERE run_id = ?", (run.id,))}
        by_position = {r["position"]: r for r in rows}
        steps = []
        for position, problem_id in enumerate(run.problem_ids[:max(run.position, 0) + 1]):
            row = by_position.get(position)
            if row is None and position >= run.position:
                break  # not reached yet
            steps.append(RunStep(
                position=position, problem_id=problem_id,
                attempts=row["attempts"] if row else 0,
                correct=bool(row["correct"]) if row else False,
                points=row["points"] if row else 0,
                hint_used=position in hints or bool(row and row["hint_used"]),
                seconds=row["seconds"] if row else None))
        return steps

    async def practice_figures(self, guild_id: int, member_id: int) -> PracticeFigures:
        row = await self.db.fetchone(
            "SELECT count(*) AS answered,"
            " count(*) FILTER (WHERE a.attempt_no = 1 AND a.hint_used = 0) AS first_try"
            " FROM run_attempts a JOIN runs r ON r.id = a.run_id"
            " WHERE r.guild_id = ? AND r.member_id = ? AND r.mode = 'practice'"
            " AND a.correct = 1", (guild_id, member_id))
        runs = await self.db.fetchall(
            "SELECT r.problem_ids, (SELECT count(DISTINCT position) FROM run_attempts a"
            " WHERE a.run_id = r.id AND a.correct = 1) AS right FROM runs r"
            " WHERE r.guild_id = ? AND r.member_id = ? AND r.mode = 'badge_run'"
            " AND r.status = 'finished'", (guild_id, member_id))
        perfect = sum(1 for r in runs if r["right"] == len(r["problem_ids"].split(",")))
        assert row is not None
        return PracticeFigures(answered=row["answered"], first_try=row["first_try"],
                               badge_runs=len(runs), perfect_runs=perfect)


def step_state(conn: Conn, run_id: int, position: int) -> StepState:
    used, solved = conn.execute(
        "SELECT count(*), coalesce(max(correct), 0) FROM run_attempts"
        " WHERE run_id = ? AND position = ?", (run_id, position)).fetchone()
    hinted = conn.execute("SELECT 1 FROM run_hints WHERE run_id = ? AND position = ?",
                          (run_id, position)).fetchone() is not None
    return StepState(attempts_used=used, solved=bool(solved), hint_used=hinted)


def _advance(conn: Conn, run: Run, now: float) -> Run:
    """On to the next problem, shown when the member asks for it; a badge run or review past
    its last problem is finished (a practice goes on while the member wants)."""
    position = run.position + 1
    done = position >= len(run.problem_ids) and run.mode != "practice"
    conn.execute("UPDATE runs SET position = ?, step_started_at = NULL, status = ?,"
                 " ended_at = ? WHERE id = ?",
                 (position, "finished" if done else "active", now if done else None, run.id))
    return get_run(conn, run.id)


def _award(conn: Conn, run: Run, badge_id: str, now: float) -> bool:
    """True if the badge is new to the member (each is awarded once)."""
    return conn.execute("INSERT INTO badges (guild_id, member_id, badge_id,"
                        " awarded_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                        (run.guild_id, run.member_id, badge_id, now)).rowcount == 1


def _all_right(conn: Conn, run: Run) -> bool:
    right = conn.execute("SELECT count(DISTINCT position) FROM run_attempts WHERE run_id = ?"
                         " AND correct = 1", (run.id,)).fetchone()[0]
    return right == len(run.problem_ids)


def _replayed(conn: Conn, run_id: int, submission_id: str) -> StepOutcome | None:
    """A submission seen before gets its original verdict back and writes nothing."""
    row = conn.execute("SELECT problem_id, attempt_no, choice, correct, points, elapsed"
                       " FROM run_attempts WHERE submission_id = ? AND run_id = ?",
                       (submission_id, run_id)).fetchone()
    if row is None:
        return None
    problem_id, attempt_no, choice, correct, points, elapsed = row
    verdict = Verdict(choice, bool(correct), attempt_no, 0 if correct else 1, points, elapsed)
    return StepOutcome(get_run(conn, run_id), problem_id, verdict, replayed=True)
