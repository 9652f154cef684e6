-- One row per explanation run asked for through the queue (EXPLAIN_BACKEND=queue), keyed like
-- the cache. The row, not the queue, is the truth: inserting it decides who enqueues, workers
-- claim it before running, and the bot re-kicks it when rekick_at passes.
CREATE TABLE explanation_jobs (
    cache_key TEXT PRIMARY KEY,
    problem_id TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
    attempts INTEGER NOT NULL,
    enqueued_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    worker TEXT,
    rekick_at REAL NOT NULL,
    error TEXT,
    step INTEGER NOT NULL DEFAULT 0,
    total INTEGER NOT NULL DEFAULT 0,
    label TEXT NOT NULL DEFAULT ''
);

-- The queue bound counts the jobs waiting or running, across every bot process.
CREATE INDEX explanation_jobs_active ON explanation_jobs (state)
    WHERE state IN ('queued', 'running');
