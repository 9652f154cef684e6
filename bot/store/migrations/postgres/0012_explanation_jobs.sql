-- One row per explanation run asked for through the queue (EXPLAIN_BACKEND=queue), keyed like
-- the cache. The row, not the queue, is the truth: inserting it decides who enqueues, workers
-- claim it before running, and the bot re-kicks it when rekick_at passes.
CREATE TABLE explanation_jobs (
    cache_key text PRIMARY KEY,
    problem_id text NOT NULL,
    state text NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
    attempts integer NOT NULL,
    enqueued_at double precision NOT NULL,
    started_at double precision,
    finished_at double precision,
    worker text,
    rekick_at double precision NOT NULL,
    error text,
    step integer NOT NULL DEFAULT 0,
    total integer NOT NULL DEFAULT 0,
    label text NOT NULL DEFAULT ''
);

-- The queue bound counts the jobs waiting or running, across every bot process.
CREATE INDEX explanation_jobs_active ON explanation_jobs (state)
    WHERE state IN ('queued', 'running');
