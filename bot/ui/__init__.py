"""Discord rendering: embeds, buttons and the sentences members read."""
