import sqlite3

from bot.core.rules import CoreRules
from bot.store import Store
from bot.store.db import migrations


def user_version(path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("PRAGMA user_version").fetchone()[0]


async def test_migrations_build_the_schema_from_empty(db_path, bank):
    store = await Store.open(db_path, CoreRules.for_bank(bank))
    await store.close()
    assert user_version(db_path) == len(migrations())
    with sqlite3.connect(db_path) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"challenges", "attempts", "members", "member_points", "badges"} <= tables


async def test_reopening_an_existing_database_keeps_its_data(db_path, bank, settings):
    rules = CoreRules.for_bank(bank)
    store = await Store.open(db_path, rules)
    await store.settings.update(10, hint_cost_percent=40)
    await store.close()
    again = await Store.open(db_path, rules)
    assert (await again.settings.get(10)).hint_cost_percent == 40
    await again.close()
    assert user_version(db_path) == len(migrations())


async def test_the_database_uses_wal_and_foreign_keys(store):
    journal = await store.db.run(lambda c: c.execute("PRAGMA journal_mode").fetchone()[0])
    keys = await store.db.run(lambda c: c.execute("PRAGMA foreign_keys").fetchone()[0])
    assert journal == "wal" and keys == 1
