"""The cache of explanation runs: one row per key, its figures beside it; and, for runs on
the queue, one job row per key: who runs it, how far it is, and when the bot re-kicks it."""

from __future__ import annotations

import json
from dataclasses import dataclass

from bot.store.db import Conn, Database


@dataclass(frozen=True)
class StoredExplanation:
    cache_key: str
    problem_id: str
    text: str
    metrics: dict[str, object]
    answer: str | None
    device: str
    duration_s: float
    created_at: float
    figures: tuple[tuple[str, bytes], ...] = ()


class ExplanationCache:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, cache_key: str) -> StoredExplanation | None:
        return await self.db.run(lambda c: _get(c, cache_key))

    async def put(self, item: StoredExplanation) -> None:
        await self.db.transaction(lambda c: _put(c, item))


def _get(conn: Conn, cache_key: str) -> StoredExplanation | None:
    row = conn.execute("SELECT * FROM explanations WHERE cache_key = ?", (cache_key,)).fetchone()
    if row is None:
        return None
    figures = tuple((name, png) for name, png in conn.execute(
        "SELECT name, png FROM explanation_figures WHERE cache_key = ? ORDER BY position",
        (cache_key,)))
    return StoredExplanation(row["cache_key"], row["problem_id"], row["text"],
                             json.loads(row["metrics_json"]), row["answer"], row["device"],
                             row["duration_s"], row["created_at"], figures)


def _put(conn: Conn, item: StoredExplanation) -> None:
    """Stores a result once: a key names the same code, parameters and device, so a result
    already there (two processes that ran the same thing) is as good and is kept."""
    stored = conn.execute(
        "INSERT INTO explanations (cache_key, problem_id, text, metrics_json, answer, device,"
        " duration_s, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (cache_key) DO NOTHING RETURNING cache_key",
        (item.cache_key, item.problem_id, item.text, json.dumps(item.metrics), item.answer,
         item.device, item.duration_s, item.created_at)).fetchone()
    if stored is None:
        return
    conn.executemany(
        "INSERT INTO explanation_figures (cache_key, position, name, png) VALUES (?, ?, ?, ?)",
        [(item.cache_key, i, name, png) for i, (name, png) in enumerate(item.figures)])


# Job rows: the queue's single-flight and the bot's deadline (EXPLAIN_BACKEND=queue).

ACTIVE = ("queued", "running")


@dataclass(frozen=True)
class ExplanationJob:
    cache_key: str
    problem_id: str
    state: str  # queued, running, done or failed
    attempts: int
    enqueued_at: float
    started_at: float | None
    finished_at: float | None
    worker: str | None
    rekick_at: float  # past it, a job still queued or running is re-kicked by the bot
    error: str | None
    step: int
    total: int
    label: str


class ExplanationJobs:
    """Each write is one conditional statement, so bots and workers racing on a row agree:
    whoever's statement changes it did the thing (enqueue, claim, re-kick), the others not."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, cache_key: str) -> ExplanationJob | None:
        return await self.db.run(lambda c: _job(c, cache_key))

    async def active_count(self, now: float) -> int:
        """Jobs waiting or running. One past its deadline is left out: nobody may be waiting
        to re-kick it (its bot gone too), and it must not hold a place in the queue forever."""
        row = await self.db.fetchone(
            "SELECT count(*) FROM explanation_jobs"
            " WHERE state IN ('queued', 'running') AND rekick_at > ?", (now,))
        return int(row[0]) if row else 0

    async def request(self, cache_key: str, problem_id: str, now: float,
                      rekick_at: float) -> bool:
        """True if this caller must enqueue the job: the row is new, or revived from a failure
        or from a result no longer cached. False: someone else's job is active or done."""
        return await self.db.transaction(
            lambda c: _request(c, cache_key, problem_id, now, rekick_at))

    async def claim(self, cache_key: str, worker: str, now: float) -> ExplanationJob | None:
        """The job, now running on this worker; None if it is not queued (done, failed, or
        already claimed): deliveries are at least once, so that delivery is skipped. Its
        deadline starts again from now, as long as the bot gave it when enqueueing."""
        return await self.db.transaction(lambda c: _claim(c, cache_key, worker, now))

    async def progress(self, cache_key: str, worker: str, step: int, total: int,
                       label: str) -> None:
        await self.db.execute(
            "UPDATE explanation_jobs SET step = ?, total = ?, label = ?"
            " WHERE cache_key = ? AND worker = ? AND state = 'running'",
            (step, total, label[:100], cache_key, worker))

    async def complete(self, item: StoredExplanation, worker: str, now: float) -> bool:
        """Caches the result and marks the job done, together; False if it was done already.
        A late worker whose job was re-kicked still completes it: its result is as good as
        the rerun's."""
        return await self.db.transaction(lambda c: _complete(c, item, worker, now))

    async def fail(self, cache_key: str, worker: str, error: str, now: float) -> bool:
        """Only the worker holding the job fails it; a stale one must not end a rerun."""
        changed = await self.db.execute(
            "UPDATE explanation_jobs SET state = 'failed', error = ?, finished_at = ?"
            " WHERE cache_key = ? AND worker = ? AND state = 'running'",
            (error, now, cache_key, worker))
        return changed > 0

    async def give_up(self, cache_key: str, error: str, now: float) -> bool:
        """Fails an active job whoever holds it (the queue is unreachable)."""
        changed = await self.db.execute(
            "UPDATE explanation_jobs SET state = 'failed', error = ?, finished_at = ?"
            " WHERE cache_key = ? AND state IN ('queued', 'running')",
            (error, now, cache_key))
        return changed > 0

    async def abandon(self, cache_key: str, worker: str, now: float) -> None:
        """A worker stopping mid-job: the row stays, due for a re-kick at once."""
        await self.db.execute(
            "UPDATE explanation_jobs SET rekick_at = ?, label = 'worker stopped'"
            " WHERE cache_key = ? AND worker = ? AND state = 'running'",
            (now, cache_key, worker))

    async def rekick(self, job: ExplanationJob, now: float, rekick_at: float,
                     max_attempts: int, error: str) -> str | None:
        """For a job past its deadline: 'queued' again (the caller enqueues it), or 'failed'
        after max_attempts; None when another process got there first."""
        return await self.db.transaction(
            lambda c: _rekick(c, job, now, rekick_at, max_attempts, error))


JOB_COLUMNS = ("cache_key, problem_id, state, attempts, enqueued_at, started_at, finished_at,"
               " worker, rekick_at, error, step, total, label")


def _job(conn: Conn, cache_key: str) -> ExplanationJob | None:
    row = conn.execute(f"SELECT {JOB_COLUMNS} FROM explanation_jobs WHERE cache_key = ?",
                       (cache_key,)).fetchone()
    return None if row is None else ExplanationJob(*row)


def _request(conn: Conn, cache_key: str, problem_id: str, now: float, rekick_at: float) -> bool:
    row = conn.execute(
        "INSERT INTO explanation_jobs (cache_key, problem_id, state, attempts, enqueued_at,"
        " rekick_at, label) VALUES (:key, :problem, 'queued', 1, :now, :rekick, 'queued')"
        " ON CONFLICT (cache_key) DO UPDATE SET state = 'queued', attempts = 1,"
        " problem_id = excluded.problem_id, enqueued_at = excluded.enqueued_at,"
        " started_at = NULL, finished_at = NULL, worker = NULL,"
        " rekick_at = excluded.rekick_at, error = NULL, step = 0, total = 0, label = 'queued'"
        " WHERE explanation_jobs.state = 'failed' OR (explanation_jobs.state = 'done' AND"
        " NOT EXISTS (SELECT 1 FROM explanations e WHERE e.cache_key = excluded.cache_key))"
        " RETURNING cache_key",
        {"key": cache_key, "problem": problem_id, "now": now, "rekick": rekick_at}).fetchone()
    return row is not None


def _claim(conn: Conn, cache_key: str, worker: str, now: float) -> ExplanationJob | None:
    # The deadline's span is the bot's (rekick_at - enqueued_at): one policy, the bot's.
    row = conn.execute(
        "UPDATE explanation_jobs SET state = 'running', worker = :worker, started_at = :now,"
        " rekick_at = :now + (rekick_at - enqueued_at), step = 0, total = 0,"
        f" label = 'starting' WHERE cache_key = :key AND state = 'queued'"
        f" RETURNING {JOB_COLUMNS}",
        {"worker": worker, "now": now, "key": cache_key}).fetchone()
    return None if row is None else ExplanationJob(*row)


def _complete(conn: Conn, item: StoredExplanation, worker: str, now: float) -> bool:
    # The job row first: on PostgreSQL its lock makes a second finisher wait, then see 'done'
    # and leave the cached result alone.
    marked = conn.execute(
        "UPDATE explanation_jobs SET state = 'done', finished_at = ?, worker = ?, error = NULL,"
        " step = total, label = 'done' WHERE cache_key = ? AND state <> 'done'",
        (now, worker, item.cache_key)).rowcount
    if marked:
        _put(conn, item)
    return bool(marked)


def _rekick(conn: Conn, job: ExplanationJob, now: float, rekick_at: float,
            max_attempts: int, error: str) -> str | None:
    # Compare-and-set on the deadline seen: of several bots past it, one re-kicks.
    seen = {"key": job.cache_key, "seen": job.rekick_at, "now": now}
    if job.attempts >= max_attempts:
        failed = conn.execute(
            "UPDATE explanation_jobs SET state = 'failed', error = :error, finished_at = :now"
            " WHERE cache_key = :key AND rekick_at = :seen AND state IN ('queued', 'running')",
            {**seen, "error": error}).rowcount
        return "failed" if failed else None
    queued = conn.execute(
        "UPDATE explanation_jobs SET state = 'queued', attempts = attempts + 1, worker = NULL,"
        " enqueued_at = :now, started_at = NULL, rekick_at = :rekick, step = 0, total = 0,"
        " label = 'queued again'"
        " WHERE cache_key = :key AND rekick_at = :seen AND state IN ('queued', 'running')",
        {**seen, "rekick": rekick_at}).rowcount
    return "queued" if queued else None
