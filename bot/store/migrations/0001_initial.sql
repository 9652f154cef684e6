-- Challenges, attempts and the totals that leaderboards and profiles read.
CREATE TABLE guild_settings (
    guild_id INTEGER PRIMARY KEY,
    challenge_channel_id INTEGER,
    time_limit INTEGER,
    scoring_mode TEXT NOT NULL DEFAULT 'speed' CHECK (scoring_mode IN ('speed', 'learning')),
    hint_cost_percent INTEGER NOT NULL DEFAULT 25 CHECK (hint_cost_percent BETWEEN 0 AND 100),
    multiple_per_channel INTEGER NOT NULL DEFAULT 0,
    discussion_thread INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE challenges (
    id INTEGER PRIMARY KEY,
    guild_id INTEGER NOT NULL,
    channel_id INTEGER NOT NULL,
    message_id INTEGER,
    problem_id TEXT NOT NULL,
    pack_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    difficulty TEXT NOT NULL,
    answer TEXT NOT NULL,
    letters TEXT NOT NULL,
    attempts_allowed INTEGER NOT NULL,
    opened_at REAL NOT NULL,
    deadline REAL NOT NULL,
    closed_at REAL,
    scoring_mode TEXT NOT NULL,
    hint_cost_percent INTEGER NOT NULL,
    starter_id INTEGER NOT NULL DEFAULT 0,
    answered_count INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX challenges_open_by_deadline ON challenges (deadline) WHERE closed_at IS NULL;
CREATE INDEX challenges_open_by_channel ON challenges (channel_id) WHERE closed_at IS NULL;

CREATE TABLE attempts (
    challenge_id INTEGER NOT NULL REFERENCES challenges (id),
    member_id INTEGER NOT NULL,
    attempt_no INTEGER NOT NULL CHECK (attempt_no >= 1),
    choice TEXT NOT NULL,
    correct INTEGER NOT NULL,
    points INTEGER NOT NULL,
    answered_at REAL NOT NULL,
    submission_id TEXT NOT NULL UNIQUE,
    PRIMARY KEY (challenge_id, member_id, attempt_no)
);
-- A member scores at most once per challenge, whatever reaches the database.
CREATE UNIQUE INDEX attempts_one_correct ON attempts (challenge_id, member_id) WHERE correct = 1;

CREATE TABLE hints (
    challenge_id INTEGER NOT NULL REFERENCES challenges (id),
    member_id INTEGER NOT NULL,
    revealed_at REAL NOT NULL,
    PRIMARY KEY (challenge_id, member_id)
);

CREATE TABLE members (
    guild_id INTEGER NOT NULL,
    member_id INTEGER NOT NULL,
    points INTEGER NOT NULL DEFAULT 0,
    answered INTEGER NOT NULL DEFAULT 0,
    correct INTEGER NOT NULL DEFAULT 0,
    first_try INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    hints INTEGER NOT NULL DEFAULT 0,
    streak INTEGER NOT NULL DEFAULT 0,
    best_streak INTEGER NOT NULL DEFAULT 0,
    last_answer_at REAL,
    PRIMARY KEY (guild_id, member_id)
);

CREATE TABLE member_kinds (
    guild_id INTEGER NOT NULL,
    member_id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    answered INTEGER NOT NULL DEFAULT 0,
    correct INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (guild_id, member_id, kind)
);

CREATE TABLE solved (
    guild_id INTEGER NOT NULL,
    member_id INTEGER NOT NULL,
    problem_id TEXT NOT NULL,
    pack_id TEXT NOT NULL,
    solved_at REAL NOT NULL,
    PRIMARY KEY (guild_id, member_id, problem_id)
);
CREATE INDEX solved_by_pack ON solved (guild_id, member_id, pack_id);

-- Points per leaderboard period ('all', 'd2026-11-28', 'w2026-48', 'm2026-11') and scope
-- ('*' for every pack, else a pack id), maintained on each correct answer.
CREATE TABLE member_points (
    guild_id INTEGER NOT NULL,
    scope TEXT NOT NULL,
    period TEXT NOT NULL,
    member_id INTEGER NOT NULL,
    points INTEGER NOT NULL,
    PRIMARY KEY (guild_id, scope, period, member_id)
) WITHOUT ROWID;
CREATE INDEX member_points_rank ON member_points (guild_id, scope, period, points DESC, member_id);

CREATE TABLE badges (
    guild_id INTEGER NOT NULL,
    member_id INTEGER NOT NULL,
    badge_id TEXT NOT NULL,
    awarded_at REAL NOT NULL,
    challenge_id INTEGER REFERENCES challenges (id),
    PRIMARY KEY (guild_id, member_id, badge_id)
);
