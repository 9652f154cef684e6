-- Item analysis for /stats problem and /stats pack, kept per attempt by the store's item
-- statistics observer (bot/store/insight.py) over the counted modes: group challenges and
-- badge runs. A pack's figures are then a few indexed reads, not a scan of every attempt.
-- A response is one member's attempts within one asking (a challenge, or a badge-run step).

-- Per server, problem and member: their responses, right in the end, and with a hint.
CREATE TABLE item_members (
    guild_id bigint NOT NULL,
    problem_id text NOT NULL,
    member_id bigint NOT NULL,
    responses integer NOT NULL,
    badge_responses integer NOT NULL,  -- of those, in badge runs (each step its own asking)
    correct integer NOT NULL,          -- responses right in the end
    hinted integer NOT NULL,           -- responses with the hint shown before an attempt
    hint_open integer NOT NULL,        -- 1: the latest response is already counted as hinted
    PRIMARY KEY (guild_id, problem_id, member_id)
);

-- Per server and member, over every problem: what discrimination compares a problem with.
CREATE TABLE item_member_totals (
    guild_id bigint NOT NULL,
    member_id bigint NOT NULL,
    responses integer NOT NULL,
    correct integer NOT NULL,
    PRIMARY KEY (guild_id, member_id)
);

-- First attempts per choice, and how many of them were right.
CREATE TABLE item_picks (
    guild_id bigint NOT NULL,
    problem_id text NOT NULL,
    choice text NOT NULL,
    picks integer NOT NULL,
    correct integer NOT NULL,
    PRIMARY KEY (guild_id, problem_id, choice)
);

-- Seconds to each right answer, ordered by the index so a median is one OFFSET away.
CREATE TABLE item_times (
    guild_id bigint NOT NULL,
    problem_id text NOT NULL,
    elapsed double precision NOT NULL
);
CREATE INDEX item_times_by_problem ON item_times (guild_id, problem_id, elapsed);

-- Times asked in group challenges: the challenges of a problem that someone answered.
CREATE INDEX challenges_answered_by_problem ON challenges (guild_id, problem_id)
    WHERE answered_count > 0;

-- No history to count: PostgreSQL support began at the schema this file completes, so
-- every PostgreSQL database is new here (SQLite's copy of this migration fills the tables).
