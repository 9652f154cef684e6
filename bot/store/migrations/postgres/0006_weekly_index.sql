-- The weekly results post reads one server's challenges by deadline: every attempt in a week
-- belongs to a challenge whose deadline is in or after it, so older history is never read.
CREATE INDEX challenges_by_guild_deadline ON challenges (guild_id, deadline);
