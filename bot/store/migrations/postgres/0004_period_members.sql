-- How many members have points in each leaderboard period, kept with the totals so the
-- leaderboard's page count is a lookup, not a count over every ranked member.
CREATE TABLE period_members (
    guild_id bigint NOT NULL,
    scope text NOT NULL,
    period text NOT NULL,
    members integer NOT NULL,
    PRIMARY KEY (guild_id, scope, period)
);
-- An upsert that updates an existing row does not fire AFTER INSERT: only new members count.
CREATE FUNCTION count_period_member() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO period_members (guild_id, scope, period, members)
        VALUES (NEW.guild_id, NEW.scope, NEW.period, 1)
        ON CONFLICT (guild_id, scope, period) DO UPDATE
        SET members = period_members.members + 1;
    RETURN NULL;
END $$;
CREATE TRIGGER member_points_counts_members AFTER INSERT ON member_points
    FOR EACH ROW EXECUTE FUNCTION count_period_member();
