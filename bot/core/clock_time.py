"""Times of day as admins type them: HH:MM in 24 hours."""

from __future__ import annotations

import re

HHMM = re.compile(r"^\s*([01]?[0-9]|2[0-3])[:.h]([0-5][0-9])\s*$")


def parse_hhmm(text: str) -> tuple[int, int]:
    """(hour, minute) of '09:00', '9:00' or '18.30'; ValueError saying what to type."""
    match = HHMM.match(text)
    if match is None:
        raise ValueError(f"'{text[:16]}' is not a time: use HH:MM in 24 hours, like 09:00 or "
                         "18:30.")
    return int(match.group(1)), int(match.group(2))
