-- Item analysis for /stats problem and /stats pack, kept per attempt by the store's item
-- statistics observer (bot/store/insight.py) over the counted modes: group challenges and
-- badge runs. A pack's figures are then a few indexed reads, not a scan of every attempt.
-- A response is one member's attempts within one asking (a challenge, or a badge-run step).

-- Per server, problem and member: their responses, right in the end, and with a hint.
CREATE TABLE item_members (
    guild_id INTEGER NOT NULL,
    problem_id TEXT NOT NULL,
    member_id INTEGER NOT NULL,
    responses INTEGER NOT NULL,
    badge_responses INTEGER NOT NULL,  -- of those, in badge runs (each step its own asking)
    correct INTEGER NOT NULL,          -- responses right in the end
    hinted INTEGER NOT NULL,           -- responses with the hint shown before an attempt
    hint_open INTEGER NOT NULL,        -- 1: the latest response is already counted as hinted
    PRIMARY KEY (guild_id, problem_id, member_id)
) WITHOUT ROWID;

-- Per server and member, over every problem: what discrimination compares a problem with.
CREATE TABLE item_member_totals (
    guild_id INTEGER NOT NULL,
    member_id INTEGER NOT NULL,
    responses INTEGER NOT NULL,
    correct INTEGER NOT NULL,
    PRIMARY KEY (guild_id, member_id)
) WITHOUT ROWID;

-- First attempts per choice, and how many of them were right.
CREATE TABLE item_picks (
    guild_id INTEGER NOT NULL,
    problem_id TEXT NOT NULL,
    choice TEXT NOT NULL,
    picks INTEGER NOT NULL,
    correct INTEGER NOT NULL,
    PRIMARY KEY (guild_id, problem_id, choice)
) WITHOUT ROWID;

-- Seconds to each right answer, ordered by the index so a median is one OFFSET away.
CREATE TABLE item_times (
    guild_id INTEGER NOT NULL,
    problem_id TEXT NOT NULL,
    elapsed REAL NOT NULL
);
CREATE INDEX item_times_by_problem ON item_times (guild_id, problem_id, elapsed);

-- Times asked in group challenges: the challenges of a problem that someone answered.
CREATE INDEX challenges_answered_by_problem ON challenges (guild_id, problem_id)
    WHERE answered_count > 0;

-- The history so far, counted as the observer would have counted it.
INSERT INTO item_members (guild_id, problem_id, member_id, responses, badge_responses, correct,
                          hinted, hint_open)
SELECT guild_id, problem_id, member_id, count(*), sum(badge), sum(correct), sum(hinted), 0
FROM (
    SELECT c.guild_id, c.problem_id, a.member_id, 0 AS badge, max(a.correct) AS correct,
           max(coalesce(h.revealed_at <= a.answered_at, 0)) AS hinted
    FROM attempts a JOIN challenges c ON c.id = a.challenge_id
    LEFT JOIN hints h ON h.challenge_id = a.challenge_id AND h.member_id = a.member_id
    GROUP BY a.challenge_id, a.member_id
    UNION ALL
    SELECT r.guild_id, ra.problem_id, r.member_id, 1, max(ra.correct), max(ra.hint_used)
    FROM run_attempts ra JOIN runs r ON r.id = ra.run_id
    WHERE r.mode = 'badge_run'
    GROUP BY ra.run_id, ra.position
)
GROUP BY guild_id, problem_id, member_id;

INSERT INTO item_member_totals (guild_id, member_id, responses, correct)
SELECT guild_id, member_id, sum(responses), sum(correct) FROM item_members
GROUP BY guild_id, member_id;

INSERT INTO item_picks (guild_id, problem_id, choice, picks, correct)
SELECT guild_id, problem_id, choice, count(*), sum(correct)
FROM (
    SELECT c.guild_id, c.problem_id, a.choice, a.correct
    FROM attempts a JOIN challenges c ON c.id = a.challenge_id WHERE a.attempt_no = 1
    UNION ALL
    SELECT r.guild_id, ra.problem_id, ra.choice, ra.correct
    FROM run_attempts ra JOIN runs r ON r.id = ra.run_id
    WHERE r.mode = 'badge_run' AND ra.attempt_no = 1
)
GROUP BY guild_id, problem_id, choice;

INSERT INTO item_times (guild_id, problem_id, elapsed)
SELECT c.guild_id, c.problem_id, max(0.0, a.answered_at - c.opened_at)
FROM attempts a JOIN challenges c ON c.id = a.challenge_id WHERE a.correct = 1
UNION ALL
SELECT r.guild_id, ra.problem_id, ra.elapsed
FROM run_attempts ra JOIN runs r ON r.id = ra.run_id
WHERE r.mode = 'badge_run' AND ra.correct = 1;
