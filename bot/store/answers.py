"""Recording answers: each one a committed write before its caller hears the result.

Answers that arrive together are committed together (group commit): one writer task drains
the queue, runs the batch as one transaction on the connection's thread, and only then
resolves each caller's future. A savepoint per answer keeps one bad answer from sinking
the others.

That per-answer path is a score of statements per answer: on SQLite, in process, cheap. On
PostgreSQL, where each is a round trip, the batch first takes its own path
(bot/store/answer_batch.py: a few reads and writes for the whole batch, the same rules in
between); if anything there fails, the batch is rolled back and redone answer by answer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any, Protocol

from bot.store.challenges import get_challenge, member_progress
from bot.store.db import LARGER, Conn, Database, dialect
from bot.store.records import (
    AnswerResult,
    AttemptFact,
    Challenge,
    MemberProgress,
    MemberSnapshot,
    Submission,
    Verdict,
)

log = logging.getLogger(__name__)
MAX_BATCH = 512


class AnswerRules(Protocol):
    """The core's rules, applied inside the transaction so they see committed state."""

    def judge(self, challenge: Challenge, progress: MemberProgress, choice: str,
              now: float) -> Verdict: ...

    def next_streak(self, streak: int, verdict: Verdict) -> int: ...

    def periods(self, now: float, timezone: str) -> list[str]: ...

    def new_badges(self, snapshot: MemberSnapshot, challenge: Challenge,
                   verdict: Verdict) -> list[str]: ...


class AttemptObserver(Protocol):
    """Learns from every stored attempt, inside the transaction that stores it: what it
    writes commits or rolls back with the attempt. One that also has `on_attempts(conn,
    facts)`, which must do what on_attempt does for each fact in turn, is told a whole
    batch at once on PostgreSQL (bot/store/answer_batch.py)."""

    def on_attempt(self, conn: Conn, fact: AttemptFact) -> None: ...


class AnswerRecorder:
    def __init__(self, db: Database, rules: AnswerRules,
                 observers: Sequence[AttemptObserver] = ()) -> None:
        self.db = db
        self.rules = rules
        self.observers = observers
        self._pending: list[tuple[Submission, asyncio.Future[AnswerResult]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def record(self, submission: Submission) -> AnswerResult:
        """Returns once the answer is committed; raises the core's error if it cannot count."""
        future: asyncio.Future[AnswerResult] = asyncio.get_running_loop().create_future()
        self._pending.append((submission, future))
        if self._writer is None:
            # The writer lives only while there is work, so nothing idles between bursts.
            self._writer = asyncio.create_task(self._drain(), name="answer-writer")
        return await future

    async def close(self) -> None:
        if self._writer is not None:
            await self._writer

    async def _drain(self) -> None:
        try:
            while self._pending:
                batch = self._pending[:MAX_BATCH]
                del self._pending[:MAX_BATCH]
                await self._write(batch)
        finally:
            self._writer = None

    async def _write(self, batch: list[tuple[Submission, asyncio.Future[AnswerResult]]]) -> None:
        submissions = [s for s, _ in batch]
        try:
            outcomes = await self.db.transaction(lambda c: self._record_batch(c, submissions))
        except Exception as exc:  # the commit failed: nobody was told anything counted
            log.exception("committing %d answers failed", len(batch))
            outcomes = [exc] * len(batch)
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            if future.done():  # the caller gave up (cancelled); the answer still stands
                continue
            if isinstance(outcome, BaseException):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)

    def _record_batch(self, conn: Conn,
                      submissions: list[Submission]) -> list[AnswerResult | Exception]:
        if dialect(conn) == "postgres":
            outcomes = self._record_together(conn, submissions)
            if outcomes is not None:
                return outcomes
        return self._record_each(conn, submissions)

    def _record_together(self, conn: Conn,
                         submissions: list[Submission]) -> list[AnswerResult | Exception] | None:
        """The batch in a few round trips; None (and nothing written) if it could not be."""
        from bot.store.answer_batch import record_batch  # it builds on this module

        conn.execute("SAVEPOINT batch")
        try:
            outcomes: list[AnswerResult | Exception] | None = record_batch(
                conn, self.rules, self.observers, submissions)
        except Exception as exc:  # e.g. another process answered in between: redo one by one
            conn.execute("ROLLBACK TO batch")
            log.warning("batch of %d answers redone one by one: %s: %s", len(submissions),
                        type(exc).__name__, exc)
            outcomes = None
        conn.execute("RELEASE batch")
        return outcomes

    def _record_each(self, conn: Conn,
                     submissions: list[Submission]) -> list[AnswerResult | Exception]:
        outcomes: list[AnswerResult | Exception] = []
        for submission in submissions:
            conn.execute("SAVEPOINT answer")
            try:
                outcomes.append(self._record_one(conn, submission))
            except Exception as exc:
                conn.execute("ROLLBACK TO answer")
                outcomes.append(exc)
            conn.execute("RELEASE answer")
        return outcomes

    def _record_one(self, conn: Conn, sub: Submission) -> AnswerResult:
        challenge = get_challenge(conn, sub.challenge_id)
        replay = _replayed(conn, sub, challenge)
        if replay is not None:
            return replay
        progress = member_progress(conn, sub.challenge_id, sub.member_id)
        verdict = self.rules.judge(challenge, progress, sub.choice, sub.now)
        conn.execute(
            "INSERT INTO attempts (challenge_id, member_id, attempt_no, choice, correct, points,"
            " answered_at, submission_id, display_name) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (sub.challenge_id, sub.member_id, verdict.attempt_no, verdict.choice,
             int(verdict.correct), verdict.points, sub.now, sub.submission_id,
             sub.display_name))
        self._tell_observers(conn, challenge, sub, verdict, progress.hint_used)
        if verdict.attempt_no == 1:
            conn.execute("UPDATE challenges SET answered_count = answered_count + 1 WHERE id = ?",
                         (challenge.id,))
        total, streak = self._update_member(conn, challenge, sub, verdict, progress.hint_used)
        badges: tuple[str, ...] = ()
        if verdict.correct:
            _mark_solved(conn, challenge, sub)  # before the badges: pack mastery counts it
            self._add_points(conn, challenge, sub, verdict.points)
            badges = self._award_badges(conn, challenge, sub, verdict)
        return AnswerResult(challenge, verdict, total, streak, badges)

    def _tell_observers(self, conn: Conn, challenge: Challenge, sub: Submission,
                        verdict: Verdict, hint_used: bool) -> None:
        if not self.observers:
            return
        fact = attempt_fact(challenge, sub, verdict, hint_used)
        for observer in self.observers:
            observer.on_attempt(conn, fact)

    def _update_member(self, conn: Conn, challenge: Challenge, sub: Submission,
                       verdict: Verdict, hint_used: bool) -> tuple[int, int]:
        row = conn.execute("SELECT streak FROM members WHERE guild_id = ? AND member_id = ?",
                           (challenge.guild_id, sub.member_id)).fetchone()
        streak = self.rules.next_streak(row[0] if row else 0, verdict)
        first_try = verdict.correct and verdict.attempt_no == 1 and not hint_used
        total = conn.execute(
            "INSERT INTO members (guild_id, member_id, points, answered, correct, first_try,"
            " attempts, streak, best_streak, last_answer_at) VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?)"
            " ON CONFLICT (guild_id, member_id) DO UPDATE SET"
            " points = members.points + excluded.points,"
            " answered = members.answered + excluded.answered,"
            " correct = members.correct + excluded.correct,"
            " first_try = members.first_try + excluded.first_try,"
            " attempts = members.attempts + 1, streak = excluded.streak,"
            " best_streak = " + LARGER.format("members.best_streak", "excluded.streak") + ","
            " last_answer_at = excluded.last_answer_at RETURNING points",
            (challenge.guild_id, sub.member_id, verdict.points, int(verdict.final),
             int(verdict.correct), int(first_try), streak, streak, sub.now)).fetchone()[0]
        if verdict.final:
            conn.execute(
                "INSERT INTO member_kinds (guild_id, member_id, kind, answered, correct)"
                " VALUES (?, ?, ?, 1, ?) ON CONFLICT (guild_id, member_id, kind) DO UPDATE SET"
                " answered = member_kinds.answered + 1,"
                " correct = member_kinds.correct + excluded.correct",
                (challenge.guild_id, sub.member_id, challenge.kind, int(verdict.correct)))
        return total, streak

    def _add_points(self, conn: Conn, challenge: Challenge, sub: Submission,
                    points: int) -> None:
        """Adds the points to each leaderboard they count in: every period, all packs, this one."""
        if points <= 0:
            return
        periods = self.rules.periods(sub.now, _timezone_of(conn, challenge.guild_id))
        rows = [(challenge.guild_id, scope, period, sub.member_id, points)
                for scope in ("*", challenge.pack_id) for period in periods]
        # A first row for a member in a period also counts them in period_members (trigger).
        conn.executemany(
            "INSERT INTO member_points (guild_id, scope, period, member_id, points)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (guild_id, scope, period, member_id)"
            " DO UPDATE SET points = member_points.points + excluded.points", rows)

    def _award_badges(self, conn: Conn, challenge: Challenge, sub: Submission,
                      verdict: Verdict) -> tuple[str, ...]:
        snapshot = member_snapshot(conn, challenge.guild_id, sub.member_id, challenge.pack_id)
        earned = self.rules.new_badges(snapshot, challenge, verdict)
        conn.executemany(
            "INSERT INTO badges (guild_id, member_id, badge_id, awarded_at,"
            " challenge_id) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [(challenge.guild_id, sub.member_id, b, sub.now, challenge.id) for b in earned])
        return tuple(earned)


def attempt_fact(challenge: Challenge, sub: Submission, verdict: Verdict,
                 hint_used: bool) -> AttemptFact:
    """What the observers learn of a stored answer to a challenge."""
    return AttemptFact(
        guild_id=challenge.guild_id, member_id=sub.member_id, mode="challenge",
        pack_id=challenge.pack_id, problem_id=challenge.problem_id,
        attempt_no=verdict.attempt_no, choice=verdict.choice, correct=verdict.correct,
        final=verdict.final, hint_used=hint_used, elapsed=verdict.elapsed,
        time_limit=challenge.time_limit, answered_at=sub.now)


def _mark_solved(conn: Conn, challenge: Challenge, sub: Submission) -> None:
    """Counts the problem solved by the member, once however often they solve it again."""
    conn.execute("INSERT INTO solved (guild_id, member_id, problem_id, pack_id,"
                 " solved_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                 (challenge.guild_id, sub.member_id, challenge.problem_id, challenge.pack_id,
                  sub.now))


def _timezone_of(conn: Conn, guild_id: int) -> str:
    """The server's zone as it is now: today's and this week's keys are computed in it."""
    row = conn.execute("SELECT timezone FROM guild_settings WHERE guild_id = ?",
                       (guild_id,)).fetchone()
    return row[0] if row else "UTC"


def _replayed(conn: Conn, sub: Submission,
              challenge: Challenge) -> AnswerResult | None:
    """A submission seen before gets its original verdict back and writes nothing."""
    row = conn.execute(
        "SELECT a.attempt_no, a.choice, a.correct, a.points, a.answered_at, m.points, m.streak"
        " FROM attempts a JOIN members m ON m.guild_id = ? AND m.member_id = a.member_id"
        " WHERE a.submission_id = ?", (challenge.guild_id, sub.submission_id)).fetchone()
    if row is None:
        return None
    *attempt, total, streak = row
    return replay_result(challenge, tuple(attempt), total, streak)


def replay_result(challenge: Challenge, attempt: tuple[Any, ...], total: int,
                  streak: int) -> AnswerResult:
    """The original verdict of a stored attempt (attempt_no, choice, correct, points,
    answered_at), with the member's totals as they are now."""
    attempt_no, choice, correct, points, answered_at = attempt
    left = 0 if correct else challenge.attempts_allowed - attempt_no
    verdict = Verdict(choice, bool(correct), attempt_no, left, points,
                      max(0.0, answered_at - challenge.opened_at))
    return AnswerResult(challenge, verdict, total, streak, replayed=True)


def member_snapshot(conn: Conn, guild_id: int, member_id: int,
                    pack_id: str) -> MemberSnapshot:
    points, correct, first_try, streak = conn.execute(
        "SELECT points, correct, first_try, streak FROM members"
        " WHERE guild_id = ? AND member_id = ?", (guild_id, member_id)).fetchone()
    solved = conn.execute("SELECT count(*) FROM solved WHERE guild_id = ? AND member_id = ?"
                          " AND pack_id = ?", (guild_id, member_id, pack_id)).fetchone()[0]
    kinds = {r[0] for r in conn.execute(
        "SELECT kind FROM member_kinds WHERE guild_id = ? AND member_id = ? AND correct > 0",
        (guild_id, member_id))}
    held = {r[0] for r in conn.execute(
        "SELECT badge_id FROM badges WHERE guild_id = ? AND member_id = ?", (guild_id, member_id))}
    return MemberSnapshot(guild_id, member_id, points, correct, first_try, streak,
                          {pack_id: solved}, frozenset(kinds), frozenset(held))


