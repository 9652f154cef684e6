-- Study rhythm: each server's time zone, its weekly results post, badge roles, schedules,
-- and the record of every scheduled fire (what makes a fire idempotent).
ALTER TABLE guild_settings ADD COLUMN timezone TEXT NOT NULL DEFAULT 'UTC';
ALTER TABLE guild_settings ADD COLUMN weekly_channel_id INTEGER;
ALTER TABLE guild_settings ADD COLUMN weekly_day INTEGER CHECK (weekly_day BETWEEN 0 AND 6);
ALTER TABLE guild_settings ADD COLUMN weekly_time TEXT;  -- 'HH:MM', in the server's zone

CREATE TABLE badge_roles (
    guild_id INTEGER NOT NULL,
    badge_id TEXT NOT NULL,
    role_id INTEGER NOT NULL,
    PRIMARY KEY (guild_id, badge_id)
) WITHOUT ROWID;

CREATE TABLE schedules (
    id INTEGER PRIMARY KEY,
    guild_id INTEGER NOT NULL,
    channel_id INTEGER NOT NULL,
    time_of_day TEXT,            -- 'HH:MM'; NULL when `days` is a cron expression
    days TEXT NOT NULL,          -- 'every day', 'weekdays', 'weekends', 'mon,wed,fri' or cron
    timezone TEXT NOT NULL,
    pack_id TEXT,
    difficulty TEXT,
    kind TEXT,
    ping_role_id INTEGER,
    created_by INTEGER NOT NULL,
    created_at REAL NOT NULL,
    paused_reason TEXT,          -- NULL while it runs
    last_fire_at REAL,           -- the scheduled instant of the last run (UNIX seconds)
    last_outcome TEXT            -- what that run did, shown by /schedule list
);
CREATE INDEX schedules_by_guild ON schedules (guild_id, id);

-- One row per (job, scheduled instant), written before anything is posted: a restart, a clock
-- jump or a double fire finds the row and posts nothing. job is 'schedule:<id>' or
-- 'weekly:<guild id>'.
CREATE TABLE job_fires (
    job TEXT NOT NULL,
    slot INTEGER NOT NULL,
    fired_at REAL NOT NULL,
    outcome TEXT,
    PRIMARY KEY (job, slot)
) WITHOUT ROWID;
