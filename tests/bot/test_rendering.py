"""Rendering stays inside Discord's limits whatever the room does."""

from bot.bank.text import BADGES_FIELD_LIMIT
from bot.core.badges import STANDARD_BADGES
from bot.ui.challenge import badge_lines


def test_the_reveal_lists_new_badges_within_its_field_and_counts_the_rest():
    first_step = STANDARD_BADGES[0]
    text = badge_lines([(10**17 + n, first_step) for n in range(40)])
    assert len(text) <= BADGES_FIELD_LIMIT
    assert text.splitlines()[-1].startswith("… and ") and text.endswith(" more")
