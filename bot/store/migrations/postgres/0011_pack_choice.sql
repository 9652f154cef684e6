-- The packs a server has turned off: group challenges and schedules draw from the others.
-- Only the exceptions are stored, so a newly installed pack is on everywhere.
CREATE TABLE disabled_packs (
    guild_id bigint NOT NULL,
    pack_id text NOT NULL,
    PRIMARY KEY (guild_id, pack_id)
);
