"""Zone names as admins type them: matched without regard to case, refused with suggestions."""

from __future__ import annotations

import zoneinfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.zones import (
    CHOICES_MAX,
    UnknownZone,
    canonical_zone,
    closest_zones,
    zone,
    zone_choices,
    zone_names,
)


@pytest.mark.parametrize(("typed", "canonical"), [
    ("Europe/Berlin", "Europe/Berlin"),
    ("europe/berlin", "Europe/Berlin"),
    ("  AMERICA/NEW_YORK ", "America/New_York"),
    ("utc", "UTC"),
    ("asia/kolkata", "Asia/Kolkata"),
])
def test_a_zone_is_stored_as_the_zone_database_spells_it(typed, canonical):
    assert canonical_zone(typed) == canonical


@given(name=st.sampled_from(zone_names()), upper=st.booleans())
def test_any_real_name_in_any_case_is_found(name, upper):
    assert canonical_zone(name.upper() if upper else name.lower()) == name


@pytest.mark.parametrize(("typed", "first"), [
    ("Berln", "Europe/Berlin"),
    ("Europe/Berln", "Europe/Berlin"),
    ("new york", "America/New_York"),
    ("Tokio", "Asia/Tokyo"),
])
def test_an_unknown_name_is_refused_with_the_closest_real_names(typed, first):
    with pytest.raises(UnknownZone) as refused:
        zone(typed)
    assert refused.value.name == typed
    assert refused.value.suggestions[0] == first
    assert len(refused.value.suggestions) <= 3
    assert set(refused.value.suggestions) <= set(zone_names())


def test_a_name_like_nothing_gets_no_suggestions():
    assert closest_zones("@everyone **bold**") == []


@pytest.mark.parametrize(("typed", "expected"), [
    ("berlin", "Europe/Berlin"),
    ("new york", "America/New_York"),
    ("new_y", "America/New_York"),
    ("tokyo", "Asia/Tokyo"),
    ("Berln", "Europe/Berlin"),  # a typo still finds it, by likeness
])
def test_autocomplete_offers_the_zone_being_typed(typed, expected):
    choices = zone_choices(typed)
    assert choices[0] == expected
    assert all(c in zone_names() for c in choices)


def test_autocomplete_starts_with_common_zones_and_never_offers_more_than_25():
    assert "UTC" in zone_choices("") and len(zone_choices("")) <= CHOICES_MAX
    assert len(zone_choices("a")) == CHOICES_MAX
    assert all(0 < len(c) <= 100 for c in zone_choices("america"))
    assert all("america" in c.casefold() for c in zone_choices("america"))


@given(typed=st.text(max_size=80))
def test_autocomplete_of_any_text_is_short_and_real(typed):
    choices = zone_choices(typed)
    assert len(choices) <= CHOICES_MAX
    assert set(choices) <= set(zone_names())


def test_every_listed_name_loads():
    for name in zone_names():
        assert zone(name).key == name


def test_the_zone_data_comes_from_the_tzdata_package_not_the_system():
    """Slim images ship no /usr/share/zoneinfo: with no system path, zones still load."""
    try:
        zoneinfo.reset_tzpath(to=[])
        assert zoneinfo.ZoneInfo.no_cache("Europe/Berlin").key == "Europe/Berlin"
        assert "America/New_York" in zoneinfo.available_timezones()
    finally:
        zoneinfo.reset_tzpath()
