"""Turning rows into records."""

from __future__ import annotations

import sqlite3

from bot.store.records import Challenge, GuildSettings


def challenge_from_row(row: sqlite3.Row) -> Challenge:
    return Challenge(
        id=row["id"], guild_id=row["guild_id"], channel_id=row["channel_id"],
        problem_id=row["problem_id"], pack_id=row["pack_id"], kind=row["kind"],
        difficulty=row["difficulty"], answer=row["answer"], letters=row["letters"],
        attempts_allowed=row["attempts_allowed"], opened_at=row["opened_at"],
        deadline=row["deadline"], scoring_mode=row["scoring_mode"],
        hint_cost_percent=row["hint_cost_percent"], starter_id=row["starter_id"],
        message_id=row["message_id"], closed_at=row["closed_at"],
        answered_count=row["answered_count"], revealed_at=row["revealed_at"],
    )


def settings_from_row(row: sqlite3.Row) -> GuildSettings:
    return GuildSettings(
        guild_id=row["guild_id"], challenge_channel_id=row["challenge_channel_id"],
        time_limit=row["time_limit"], scoring_mode=row["scoring_mode"],
        hint_cost_percent=row["hint_cost_percent"],
        multiple_per_channel=bool(row["multiple_per_channel"]),
        discussion_thread=bool(row["discussion_thread"]),
    )
