"""Time zones by IANA name, from the `tzdata` package, so slim images without system zone
data work too."""

from __future__ import annotations

import difflib
import logging
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

log = logging.getLogger(__name__)
DEFAULT_ZONE = "UTC"
SUGGESTIONS = 3
CHOICES_MAX = 25  # Discord shows at most 25 autocomplete choices


class UnknownZone(ValueError):
    """A zone name the zone database does not know; carries the closest real names."""

    def __init__(self, name: str, suggestions: list[str]) -> None:
        super().__init__("unknown time zone")
        self.name = name
        self.suggestions = suggestions


@cache
def zone_names() -> tuple[str, ...]:
    """Every IANA zone name, sorted; the legacy aliases ('posixrules', 'Factory') left out."""
    return tuple(sorted(n for n in available_timezones()
                        if "/" in n or n in ("UTC", "GMT")))


@cache
def _by_folded_name() -> dict[str, str]:
    return {name.casefold(): name for name in zone_names()}


def zone(name: str) -> ZoneInfo:
    """The zone called `name`, matched without regard to case; raises UnknownZone."""
    real = _by_folded_name().get(name.strip().casefold())
    if real is None:
        raise UnknownZone(name, closest_zones(name))
    try:
        return ZoneInfo(real)
    except (ZoneInfoNotFoundError, ValueError):  # listed but unreadable: a broken tzdata
        raise UnknownZone(name, closest_zones(name)) from None


def stored_zone(name: str) -> ZoneInfo:
    """A zone read back from the database; one the zone data no longer has (a tzdata update
    can drop a name) falls back to UTC with a log line, so answers and posts still work."""
    try:
        return zone(name)
    except UnknownZone:
        log.warning("unknown stored time zone %r: using UTC", name[:64])
        return ZoneInfo(DEFAULT_ZONE)


def canonical_zone(name: str) -> str:
    """The zone's name as the database spells it ('europe/berlin' -> 'Europe/Berlin')."""
    return zone(name).key


def closest_zones(name: str) -> list[str]:
    """Up to three real names that look like `name`: 'Berlin' finds 'Europe/Berlin'."""
    wanted = name.strip().casefold().replace(" ", "_")
    folded = _by_folded_name()
    by_city = {real.rsplit("/", 1)[-1].casefold(): real for real in zone_names()}
    close = difflib.get_close_matches(wanted, list(by_city), n=SUGGESTIONS, cutoff=0.6)
    found = [by_city[c] for c in close]
    for c in difflib.get_close_matches(wanted, list(folded), n=SUGGESTIONS, cutoff=0.6):
        if folded[c] not in found:
            found.append(folded[c])
    return found[:SUGGESTIONS]


def zone_choices(typed: str) -> list[str]:
    """Autocomplete: names containing what was typed (by city first), at most 25."""
    wanted = typed.strip().casefold().replace(" ", "_")
    if not wanted:
        return ["UTC", "Europe/London", "Europe/Berlin", "America/New_York", "America/Chicago",
                "America/Los_Angeles", "Asia/Kolkata", "Asia/Tokyo", "Australia/Sydney"]
    starts = [n for n in zone_names() if n.rsplit("/", 1)[-1].casefold().startswith(wanted)]
    contains = [n for n in zone_names() if wanted in n.casefold() and n not in starts]
    return (starts + contains)[:CHOICES_MAX] or closest_zones(typed)
