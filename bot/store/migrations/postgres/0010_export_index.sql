-- /export reads a server's private-run attempts run by run in order of start, by keyset
-- (bot/store/export.py): without this index each chunk would sort the server's runs.
CREATE INDEX runs_by_guild_start ON runs (guild_id, started_at, id);
