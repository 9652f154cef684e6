-- How many members have points in each leaderboard period, kept with the totals so the
-- leaderboard's page count is a lookup, not a count over every ranked member.
CREATE TABLE period_members (
    guild_id INTEGER NOT NULL,
    scope TEXT NOT NULL,
    period TEXT NOT NULL,
    members INTEGER NOT NULL,
    PRIMARY KEY (guild_id, scope, period)
) WITHOUT ROWID;
INSERT INTO period_members (guild_id, scope, period, members)
    SELECT guild_id, scope, period, count(*) FROM member_points GROUP BY guild_id, scope, period;
-- An upsert that updates an existing row does not fire AFTER INSERT: only new members count.
CREATE TRIGGER member_points_counts_members AFTER INSERT ON member_points
BEGIN
    INSERT INTO period_members (guild_id, scope, period, members)
        VALUES (NEW.guild_id, NEW.scope, NEW.period, 1)
        ON CONFLICT (guild_id, scope, period) DO UPDATE SET members = members + 1;
END;
