-- Personal study: practice sessions, badge runs and review sessions (private to one member),
-- their attempts, and the name a member had when answering (for /export).
ALTER TABLE attempts ADD COLUMN display_name TEXT;

CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    guild_id INTEGER NOT NULL,
    member_id INTEGER NOT NULL,
    mode TEXT NOT NULL CHECK (mode IN ('practice', 'badge_run', 'review')),
    pack_id TEXT,                -- a badge run's pack; a practice's filter, if any
    kind TEXT,                   -- a practice's filter, if any
    problem_ids TEXT NOT NULL,   -- a badge run's problems in order, comma-separated
    position INTEGER NOT NULL DEFAULT 0,  -- the problem being answered
    step_started_at REAL,        -- when that problem was shown: a badge run's timer
    started_at REAL NOT NULL,
    ended_at REAL,
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'finished', 'abandoned'))
);
-- One badge run at a time per member, whatever reaches the database.
CREATE UNIQUE INDEX runs_one_active_badge_run ON runs (guild_id, member_id)
    WHERE mode = 'badge_run' AND status = 'active';
CREATE INDEX runs_by_member ON runs (guild_id, member_id, mode);

CREATE TABLE run_attempts (
    run_id INTEGER NOT NULL REFERENCES runs (id),
    position INTEGER NOT NULL,
    problem_id TEXT NOT NULL,
    attempt_no INTEGER NOT NULL CHECK (attempt_no >= 1),
    choice TEXT NOT NULL,
    correct INTEGER NOT NULL,
    points INTEGER NOT NULL,
    hint_used INTEGER NOT NULL,
    answered_at REAL NOT NULL,
    elapsed REAL NOT NULL,       -- seconds from the problem being shown to this answer
    display_name TEXT,
    submission_id TEXT NOT NULL UNIQUE,
    PRIMARY KEY (run_id, position, attempt_no)
);

CREATE TABLE run_hints (
    run_id INTEGER NOT NULL REFERENCES runs (id),
    position INTEGER NOT NULL,
    revealed_at REAL NOT NULL,
    PRIMARY KEY (run_id, position)
);
