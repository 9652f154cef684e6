"""Turning rows into records, column by field name, so a new field needs no new mapping."""

from __future__ import annotations

from dataclasses import fields
from typing import Any, get_type_hints

from bot.store.db import Row
from bot.store.records import Challenge, GuildSettings

Columns = tuple[tuple[str, bool], ...]  # (field and column name, stored as 0/1 but a bool)


def columns(record: type[Any]) -> Columns:
    """The columns a record reads: one per field, each named as its field."""
    hints = get_type_hints(record)  # real types: the records module postpones annotations
    return tuple((f.name, hints[f.name] is bool) for f in fields(record) if f.init)


def values(row: Row, wanted: Columns) -> dict[str, Any]:
    # SQLite has no boolean type: a bool field comes back as 0 or 1.
    return {name: bool(row[name]) if flag else row[name] for name, flag in wanted}


CHALLENGE_COLUMNS = columns(Challenge)
SETTINGS_COLUMNS = columns(GuildSettings)


def challenge_from_row(row: Row) -> Challenge:
    return Challenge(**values(row, CHALLENGE_COLUMNS))


def settings_from_row(row: Row) -> GuildSettings:
    return GuildSettings(**values(row, SETTINGS_COLUMNS))
