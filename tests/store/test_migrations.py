"""Migrations: SQLite's (numbered by PRAGMA user_version) and PostgreSQL's (rows in
schema_version) build the same schema, table for table and column for column."""

import sqlite3

import pytest

from bot.core.rules import CoreRules
from bot.store import Store
from bot.store.db import INTEGRITY_ERRORS, migrations

# What each backend keeps for itself, outside the schema the repositories share.
BOOKKEEPING = {"schema_version", "sqlite_sequence"}


def user_version(path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("PRAGMA user_version").fetchone()[0]


def sqlite_columns(path) -> set[tuple[str, str]]:
    with sqlite3.connect(path) as conn:
        return {(table, column) for table, column in conn.execute(
            "SELECT m.name, c.name FROM sqlite_master m, pragma_table_info(m.name) c"
            " WHERE m.type = 'table'")}


async def postgres_schema(store) -> tuple[set[tuple[str, str]], list[int]]:
    columns = await store.db.fetchall(
        "SELECT table_name, column_name FROM information_schema.columns"
        " WHERE table_schema = current_schema()")
    versions = await store.db.fetchall("SELECT version FROM schema_version ORDER BY version")
    return {(t, c) for t, c in columns}, [v for (v,) in versions]


async def test_migrations_build_the_schema_from_empty(db_path, bank):
    store = await Store.open(db_path, CoreRules.for_bank(bank))
    await store.close()
    assert user_version(db_path) == len(migrations())
    tables = {table for table, _ in sqlite_columns(db_path)}
    assert {"challenges", "attempts", "members", "member_points", "badges"} <= tables


async def test_both_backends_have_the_same_tables_columns_and_migrations(
        db_path, empty_postgres_url, bank):
    rules = CoreRules.for_bank(bank)
    await (await Store.open(db_path, rules)).close()
    store = await Store.open(empty_postgres_url, rules)  # every migration, from nothing
    try:
        pg_columns, pg_versions = await postgres_schema(store)
    finally:
        await store.close()

    def shared(columns):
        return {(t, c) for t, c in columns if t not in BOOKKEEPING}
    assert shared(pg_columns) == shared(sqlite_columns(db_path))
    numbers = [n for n, _, _ in migrations("sqlite")]
    assert [n for n, _, _ in migrations("postgres")] == numbers
    assert pg_versions == numbers and user_version(db_path) == numbers[-1]


async def test_reopening_an_existing_database_keeps_its_data(database, bank, settings):
    rules = CoreRules.for_bank(bank)
    store = await Store.open(database, rules)
    await store.settings.update(10, hint_cost_percent=40)
    await store.close()
    again = await Store.open(database, rules)
    try:
        assert (await again.settings.get(10)).hint_cost_percent == 40
    finally:
        await again.close()


async def test_reopening_applies_no_migration_twice(postgres_url, bank):
    rules = CoreRules.for_bank(bank)
    await (await Store.open(postgres_url, rules)).close()
    store = await Store.open(postgres_url, rules)
    try:
        _, versions = await postgres_schema(store)
    finally:
        await store.close()
    assert versions == [n for n, _, _ in migrations("postgres")]


async def test_sqlite_uses_wal_and_foreign_keys(db_path, bank):
    store = await Store.open(db_path, CoreRules.for_bank(bank))
    try:
        journal = await store.db.run(lambda c: c.execute("PRAGMA journal_mode").fetchone()[0])
        keys = await store.db.run(lambda c: c.execute("PRAGMA foreign_keys").fetchone()[0])
    finally:
        await store.close()
    assert journal == "wal" and keys == 1


async def test_a_foreign_key_is_enforced(store):
    with pytest.raises(INTEGRITY_ERRORS):
        await store.db.execute("INSERT INTO hints (challenge_id, member_id, revealed_at)"
                               " VALUES (?, ?, ?)", (404, 1, 0.0))
