"""PostgreSQL's path for a batch of answers: the same few round trips however many answers.

The per-answer path (AnswerRecorder._record_one) runs 17 to 26 statements per answer: on
SQLite, in process, they cost microseconds; on PostgreSQL each is a round trip. Here the
whole batch is read in one query, judged in order in Python by the same rules against an
in-memory view that each answer updates (a member's second answer sees their first), and
written in one statement of set-based parts, one per table, rows with the same key added up
first: one statement cannot touch the same row twice. The observers then take the batch's
attempts in a round trip or two each.

Whatever fails here (a constraint, a row another transaction changed since it was read, an
observer) fails the whole batch: the recorder rolls it back and runs the per-answer path,
whose behaviour this one reproduces, answer by answer.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from bot.store.answers import AnswerRules, AttemptObserver, attempt_fact, replay_result
from bot.store.batch_sql import StaleRead, arrays, unnest
from bot.store.db import Conn, Row
from bot.store.records import (
    AnswerResult,
    AttemptFact,
    Challenge,
    ChallengeMissing,
    MemberProgress,
    MemberSnapshot,
    Submission,
    Verdict,
)
from bot.store.rows import challenge_from_row

Outcome = AnswerResult | Exception
Pair = tuple[int, int]  # (challenge, member), or (guild, member)

# Everything the rules read, one row per submission whose challenge exists (n: its place in
# the batch): the challenge and its server's zone; the member's attempts, points if solved and
# hint on it; whether the problem is solved already and how much of its pack; their members
# row, kinds right and badges held; and the attempt stored under this submission id, if any.
# Each is an index lookup per submission, whatever the tables' sizes: a lateral subquery with
# OFFSET 0 is never flattened into a join, and a scalar one with LIMIT 1 is never hashed, so
# the planner cannot trade them for a scan of a whole table.
READ_BATCH = (
    "SELECT u.n, c.*, coalesce(g.timezone, 'UTC') AS zone, p.used, p.solved_points,"
    " (SELECT true FROM hints h WHERE h.challenge_id = u.challenge_id"
    "  AND h.member_id = u.member_id LIMIT 1) IS NOT NULL AS hint,"
    " (SELECT true FROM solved s WHERE s.guild_id = c.guild_id AND s.member_id = u.member_id"
    "  AND s.problem_id = c.problem_id LIMIT 1) IS NOT NULL AS done,"
    " (SELECT count(*) FROM solved s WHERE s.guild_id = c.guild_id"
    "  AND s.member_id = u.member_id AND s.pack_id = c.pack_id) AS in_pack,"
    " m.points AS m_points, m.correct AS m_correct, m.first_try AS m_first_try,"
    " m.streak AS m_streak,"
    " ARRAY(SELECT k.kind FROM member_kinds k WHERE k.guild_id = c.guild_id"
    "  AND k.member_id = u.member_id AND k.correct > 0) AS kinds,"
    " ARRAY(SELECT b.badge_id FROM badges b WHERE b.guild_id = c.guild_id"
    "  AND b.member_id = u.member_id) AS badges,"
    " r.member_id AS r_member, r.attempt_no AS r_attempt_no, r.choice AS r_choice,"
    " r.correct AS r_correct, r.points AS r_points, r.answered_at AS r_answered_at"
    " FROM unnest(?::bigint[], ?::bigint[], ?::text[]) WITH ORDINALITY"
    "  AS u(challenge_id, member_id, submission_id, n)"
    " JOIN LATERAL (SELECT * FROM challenges WHERE id = u.challenge_id OFFSET 0) AS c ON true"
    " LEFT JOIN LATERAL (SELECT timezone FROM guild_settings"
    "  WHERE guild_id = c.guild_id OFFSET 0) AS g ON true"
    " LEFT JOIN LATERAL (SELECT points, correct, first_try, streak FROM members"
    "  WHERE guild_id = c.guild_id AND member_id = u.member_id OFFSET 0) AS m ON true"
    " LEFT JOIN LATERAL (SELECT member_id, attempt_no, choice, correct, points, answered_at"
    "  FROM attempts WHERE submission_id = u.submission_id OFFSET 0) AS r ON true"
    " CROSS JOIN LATERAL (SELECT count(*) AS used,"
    "  max(CASE WHEN a.correct = 1 THEN a.points END) AS solved_points FROM attempts a"
    "  WHERE a.challenge_id = u.challenge_id AND a.member_id = u.member_id) AS p")

INSERT_ATTEMPTS = (
    "INSERT INTO attempts (challenge_id, member_id, attempt_no, choice, correct, points,"
    " answered_at, submission_id, display_name) SELECT * FROM "
    + unnest("bigint", "bigint", "int", "text", "int", "int", "float8", "text", "text"))
COUNT_ANSWERED = (
    "UPDATE challenges AS c SET answered_count = c.answered_count + d.n"
    " FROM " + unnest("bigint", "int") + " AS d(id, n) WHERE c.id = d.id")
# Only rows still as read: another transaction's answer in between sends the batch back.
UPDATE_MEMBERS = (
    "UPDATE members AS m SET points = m.points + d.points, answered = m.answered + d.answered,"
    " correct = m.correct + d.correct, first_try = m.first_try + d.first_try,"
    " attempts = m.attempts + d.attempts, streak = d.streak,"
    " best_streak = CASE WHEN m.best_streak > d.best THEN m.best_streak ELSE d.best END,"
    " last_answer_at = d.last_at FROM "
    + unnest("bigint", "bigint", *["int"] * 7, "float8", *["int"] * 4)
    + " AS d(guild_id, member_id, points, answered, correct, first_try, attempts, streak,"
    " best, last_at, was_points, was_correct, was_first_try, was_streak)"
    " WHERE m.guild_id = d.guild_id AND m.member_id = d.member_id"
    " AND m.points = d.was_points AND m.correct = d.was_correct"
    " AND m.first_try = d.was_first_try AND m.streak = d.was_streak RETURNING 1")
# A row another transaction inserted meanwhile fails the batch here.
INSERT_MEMBERS = (
    "INSERT INTO members (guild_id, member_id, points, answered, correct, first_try,"
    " attempts, streak, best_streak, last_answer_at) SELECT * FROM "
    + unnest("bigint", "bigint", *["int"] * 7, "float8"))
ADD_KINDS = (
    "INSERT INTO member_kinds (guild_id, member_id, kind, answered, correct) SELECT * FROM "
    + unnest("bigint", "bigint", "text", "int", "int")
    + " ON CONFLICT (guild_id, member_id, kind) DO UPDATE SET"
    " answered = member_kinds.answered + excluded.answered,"
    " correct = member_kinds.correct + excluded.correct")
INSERT_SOLVED = (
    "INSERT INTO solved (guild_id, member_id, problem_id, pack_id, solved_at) SELECT * FROM "
    + unnest("bigint", "bigint", "text", "text", "float8") + " ON CONFLICT DO NOTHING"
    " RETURNING 1")
# A first row for a member in a period also counts them in period_members (trigger).
ADD_POINTS = (
    "INSERT INTO member_points (guild_id, scope, period, member_id, points) SELECT * FROM "
    + unnest("bigint", "text", "text", "bigint", "int")
    + " ON CONFLICT (guild_id, scope, period, member_id)"
    " DO UPDATE SET points = member_points.points + excluded.points")
INSERT_BADGES = (
    "INSERT INTO badges (guild_id, member_id, badge_id, awarded_at, challenge_id)"
    " SELECT * FROM " + unnest("bigint", "bigint", "text", "float8", "bigint")
    + " ON CONFLICT DO NOTHING RETURNING 1")
# All of it in one statement (one round trip). Each part writes its own table, so that no
# part needs to see another's rows; the counts say whether the rows read were still there.
WRITE_BATCH = (
    "WITH attempts_in AS (" + INSERT_ATTEMPTS + "), answered AS (" + COUNT_ANSWERED + "),"
    " members_up AS (" + UPDATE_MEMBERS + "), members_in AS (" + INSERT_MEMBERS + "),"
    " kinds AS (" + ADD_KINDS + "), solved_in AS (" + INSERT_SOLVED + "),"
    " points AS (" + ADD_POINTS + "), badges_in AS (" + INSERT_BADGES + ")"
    " SELECT (SELECT count(*) FROM members_up), (SELECT count(*) FROM solved_in),"
    " (SELECT count(*) FROM badges_in)")


class OneByOne(Exception):
    """Something the batch does not reproduce: the per-answer path takes the batch."""


@dataclass
class MemberState:
    """One members row as the batch has it: as read (None: no row), and as it is now."""

    read: tuple[int, int, int, int] | None  # points, correct, first_try, streak
    kinds: set[str]  # kinds with a correct answer
    badges: set[str]
    points: int = 0
    correct: int = 0
    first_try: int = 0
    streak: int = 0
    answered: int = 0  # these three: the batch's own, added to the row when written
    attempts: int = 0
    streaks: list[int] = field(default_factory=list)
    last_at: float = 0.0

    def __post_init__(self) -> None:
        if self.read is not None:
            self.points, self.correct, self.first_try, self.streak = self.read

    @property
    def exists(self) -> bool:
        return self.read is not None or self.attempts > 0

    def answer(self, verdict: Verdict, streak: int, first_try: bool, now: float) -> None:
        self.points += verdict.points
        self.correct += int(verdict.correct)
        self.first_try += int(first_try)
        self.streak = streak
        self.answered += int(verdict.final)
        self.attempts += 1
        self.streaks.append(streak)
        self.last_at = now


def record_batch(conn: Conn, rules: AnswerRules, observers: Sequence[AttemptObserver],
                 submissions: Sequence[Submission]) -> list[Outcome]:
    """Each submission's outcome, as the per-answer path gives them in this order; raises
    (and the caller rolls back) when the batch cannot be done this way."""
    batch = AnswerBatch(rules)
    batch.read(conn, submissions)
    outcomes = [batch.judge(sub) for sub in submissions]
    batch.write(conn, observers)
    return outcomes


class AnswerBatch:
    """What a batch read, what its answers changed so far, and what it will write."""

    def __init__(self, rules: AnswerRules) -> None:
        self.rules = rules
        self.challenges: dict[int, Challenge] = {}
        self.zones: dict[int, str] = {}
        self.replays: dict[str, tuple[int, int, str, int, int, float]] = {}  # member first
        self.progress: dict[Pair, MemberProgress] = {}
        self.solved: set[tuple[int, int, str]] = set()  # guild, member, problem
        self.in_pack: dict[tuple[int, int, str], int] = {}  # guild, member, pack
        self.members: dict[Pair, MemberState] = {}
        self.attempts: list[tuple[object, ...]] = []
        self.facts: list[AttemptFact] = []
        self.answered: dict[int, int] = defaultdict(int)
        self.kinds: dict[tuple[int, int, str], list[int]] = {}
        self.new_solved: list[tuple[int, int, str, str, float]] = []
        self.points: dict[tuple[int, str, str, int], int] = defaultdict(int)
        self.badges: list[tuple[int, int, str, float, int]] = []

    # Reading: one query for the whole batch.

    def read(self, conn: Conn, submissions: Sequence[Submission]) -> None:
        rows = conn.execute(READ_BATCH, arrays(
            ((s.challenge_id, s.member_id, s.submission_id) for s in submissions), 3))
        for row in rows:
            sub = submissions[row["n"] - 1]
            if row["id"] not in self.challenges:
                self.challenges[row["id"]] = challenge_from_row(row)
                self.zones[row["guild_id"]] = row["zone"]
            self.progress[sub.challenge_id, sub.member_id] = MemberProgress(
                row["used"], row["solved_points"], row["hint"])
            if row["done"]:
                self.solved.add((row["guild_id"], sub.member_id, row["problem_id"]))
            self.in_pack[row["guild_id"], sub.member_id, row["pack_id"]] = row["in_pack"]
            self._read_member(row, sub)
            self._read_replay(row, sub)

    def _read_member(self, row: Row, sub: Submission) -> None:
        key = (row["guild_id"], sub.member_id)
        if key not in self.members:
            read = None if row["m_points"] is None else (
                row["m_points"], row["m_correct"], row["m_first_try"], row["m_streak"])
            self.members[key] = MemberState(read, set(row["kinds"]), set(row["badges"]))

    def _read_replay(self, row: Row, sub: Submission) -> None:
        if row["r_member"] is None:
            return
        if row["r_member"] != sub.member_id:  # the per-answer path refuses it its own way
            raise OneByOne(f"submission {sub.submission_id} was another member's")
        self.replays[sub.submission_id] = (
            row["r_member"], row["r_attempt_no"], row["r_choice"], row["r_correct"],
            row["r_points"], row["r_answered_at"])

    # Judging: each answer in order, against the view the answers before it left.

    def judge(self, sub: Submission) -> Outcome:
        challenge = self.challenges.get(sub.challenge_id)
        if challenge is None:
            return ChallengeMissing(sub.challenge_id)
        replay = self._replayed(sub, challenge)
        if replay is not None:
            return replay
        progress = self.progress[challenge.id, sub.member_id]
        try:
            verdict = self.rules.judge(challenge, progress, sub.choice, sub.now)
        except Exception as exc:  # the answer cannot count: its outcome, and nothing written
            return exc
        return self._answer(challenge, sub, progress, verdict)

    def _replayed(self, sub: Submission, challenge: Challenge) -> AnswerResult | None:
        attempt = self.replays.get(sub.submission_id)
        if attempt is None:
            return None
        member_id, *stored = attempt
        member = self.members.get((challenge.guild_id, member_id))
        if member is None or not member.exists:  # the per-answer path refuses it its own way
            raise OneByOne(f"submission {sub.submission_id} was stored in another server")
        return replay_result(challenge, tuple(stored), member.points, member.streak)

    def _answer(self, challenge: Challenge, sub: Submission, progress: MemberProgress,
                verdict: Verdict) -> AnswerResult:
        self._store_attempt(challenge, sub, progress, verdict)
        member = self.members[challenge.guild_id, sub.member_id]
        streak = self.rules.next_streak(member.streak, verdict)
        first_try = verdict.correct and verdict.attempt_no == 1 and not progress.hint_used
        member.answer(verdict, streak, first_try, sub.now)
        if verdict.final:
            counts = self.kinds.setdefault((challenge.guild_id, sub.member_id, challenge.kind),
                                           [0, 0])
            counts[0] += 1
            counts[1] += int(verdict.correct)
        badges: tuple[str, ...] = ()
        if verdict.correct:
            member.kinds.add(challenge.kind)
            self._mark_solved(challenge, sub)  # before the badges: pack mastery counts it
            self._add_points(challenge, sub, verdict.points)
            badges = self._award_badges(challenge, sub, verdict, member)
        return AnswerResult(challenge, verdict, member.points, streak, badges)

    def _store_attempt(self, challenge: Challenge, sub: Submission, progress: MemberProgress,
                       verdict: Verdict) -> None:
        correct = int(verdict.correct)
        self.attempts.append((challenge.id, sub.member_id, verdict.attempt_no, verdict.choice,
                              correct, verdict.points, sub.now, sub.submission_id,
                              sub.display_name))
        self.replays[sub.submission_id] = (sub.member_id, verdict.attempt_no, verdict.choice,
                                           correct, verdict.points, sub.now)
        self.progress[challenge.id, sub.member_id] = MemberProgress(
            verdict.attempt_no, verdict.points if verdict.correct else progress.solved_points,
            progress.hint_used)
        self.facts.append(attempt_fact(challenge, sub, verdict, progress.hint_used))
        if verdict.attempt_no == 1:
            self.answered[challenge.id] += 1
            self.challenges[challenge.id] = replace(
                challenge, answered_count=challenge.answered_count + 1)

    def _mark_solved(self, challenge: Challenge, sub: Submission) -> None:
        key = (challenge.guild_id, sub.member_id, challenge.problem_id)
        if key in self.solved:
            return
        self.solved.add(key)
        self.new_solved.append((*key, challenge.pack_id, sub.now))
        self.in_pack[challenge.guild_id, sub.member_id, challenge.pack_id] += 1

    def _add_points(self, challenge: Challenge, sub: Submission, points: int) -> None:
        if points <= 0:
            return
        for period in self.rules.periods(sub.now, self.zones[challenge.guild_id]):
            for scope in ("*", challenge.pack_id):
                self.points[challenge.guild_id, scope, period, sub.member_id] += points

    def _award_badges(self, challenge: Challenge, sub: Submission, verdict: Verdict,
                      member: MemberState) -> tuple[str, ...]:
        solved = self.in_pack[challenge.guild_id, sub.member_id, challenge.pack_id]
        snapshot = MemberSnapshot(
            challenge.guild_id, sub.member_id, member.points, member.correct, member.first_try,
            member.streak, {challenge.pack_id: solved}, frozenset(member.kinds),
            frozenset(member.badges))
        earned = self.rules.new_badges(snapshot, challenge, verdict)
        for badge in earned:
            member.badges.add(badge)
            self.badges.append((challenge.guild_id, sub.member_id, badge, sub.now, challenge.id))
        return tuple(earned)

    # Writing: one statement, a part per table, each row once; then the observers.

    def write(self, conn: Conn, observers: Sequence[AttemptObserver]) -> None:
        if not self.attempts:
            return
        changed = [(key, m) for key, m in self.members.items() if m.attempts]
        old = [(*key, *_added(m), *m.read) for key, m in changed if m.read is not None]
        new = [(*key, *_added(m)) for key, m in changed if m.read is None]
        counts = conn.execute(WRITE_BATCH, (
            *arrays(self.attempts, 9), *arrays(self.answered.items(), 2), *arrays(old, 14),
            *arrays(new, 10), *arrays(((*k, a, c) for k, (a, c) in self.kinds.items()), 5),
            *arrays(self.new_solved, 5), *arrays(((*k, p) for k, p in self.points.items()), 5),
            *arrays(self.badges, 5))).fetchone()
        wanted = (len(old), len(self.new_solved), len(self.badges))
        if tuple(counts) != wanted:
            raise StaleRead(f"members, solved, badges: wrote {tuple(counts)} of {wanted}")
        tell_observers(conn, observers, self.facts)


def _added(m: MemberState) -> tuple[int | float, ...]:
    """What the batch adds to a members row (points .. attempts), then what it sets."""
    was = m.read or (0, 0, 0, 0)
    return (m.points - was[0], m.answered, m.correct - was[1], m.first_try - was[2],
            m.attempts, m.streak, max(m.streaks), m.last_at)


def tell_observers(conn: Conn, observers: Sequence[AttemptObserver],
                   facts: list[AttemptFact]) -> None:
    """Every fact to every observer, in order: all at once to one that takes a batch
    (`on_attempts`), else one by one. Observers keep tables of their own, so telling one
    all the facts before the next gives what telling each fact to both in turn gives."""
    for observer in observers:
        many = getattr(observer, "on_attempts", None)
        if many is not None:
            many(conn, facts)
            continue
        for fact in facts:
            observer.on_attempt(conn, fact)


__all__ = ["OneByOne", "StaleRead", "record_batch", "tell_observers"]
