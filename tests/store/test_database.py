"""The Database itself: its one thread, closing, and what an unclosed one leaves behind."""

import asyncio
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from bot.core.rules import CoreRules
from bot.store import Store
from bot.store.db import INTEGRITY_ERRORS, open_database

ROOT = Path(__file__).resolve().parents[2]

# Opens a store, writes one row, and exits without closing anything: a bot that crashed out
# of its shutdown path, or a test that forgot to close. The store stays referenced to the end
# (as a bot held by a module or a fixture is), so no finaliser gets a chance to stop a thread.
UNCLOSED = """
import asyncio, sys
from bot.core.rules import CoreRules
from bot.store import Store
from tests.factories import bank

held = []

async def main(path):
    store = await Store.open(path, CoreRules.for_bank(bank()))
    held.append(store)
    await store.settings.update(10, hint_cost_percent=40)

asyncio.run(main(sys.argv[1]))
"""
# The same, then gone at once: no finaliser, no thread join, no close. Only the commit is left.
KILLED = UNCLOSED + "import os; os._exit(0)\n"


@pytest.mark.parametrize("script", [UNCLOSED, KILLED], ids=["exits", "os-exit"])
def test_an_unclosed_store_neither_hangs_the_process_nor_loses_a_commit(db_path, script):
    started = time.monotonic()
    # A hang here is the bug: the connection's thread keeping the interpreter alive at exit.
    done = subprocess.run([sys.executable, "-c", script, str(db_path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started < 20
    with sqlite3.connect(db_path) as conn:  # committed, so on disk though never closed
        rows = conn.execute("SELECT guild_id, hint_cost_percent FROM guild_settings").fetchall()
    assert rows == [(10, 40)]


async def test_every_call_runs_on_one_thread_that_is_not_the_loops(database):
    db = await open_database(database)
    try:
        names = {await db.run(lambda c: threading.current_thread().name) for _ in range(20)}
    finally:
        await db.close()
    assert len(names) == 1 and threading.current_thread().name not in names


async def test_closing_twice_is_harmless_and_later_calls_fail_clearly(database):
    db = await open_database(database)
    await db.close()
    await db.close()
    with pytest.raises((sqlite3.ProgrammingError, RuntimeError), match="closed"):
        await db.fetchall("SELECT 1")


async def test_closing_lets_the_calls_already_queued_finish(database, read_elsewhere):
    db = await open_database(database)
    writes = [asyncio.create_task(db.execute("INSERT INTO guild_settings (guild_id) VALUES (?)",
                                             (g,))) for g in range(5)]
    await asyncio.sleep(0)  # each task queues its call on the thread
    await db.close()
    assert await asyncio.gather(*writes) == [1] * 5
    assert await read_elsewhere("SELECT count(*) FROM guild_settings") == [(5,)]


async def test_the_url_chooses_the_backend(database, backend):
    db = await open_database(database)
    try:
        assert db.dialect == backend
    finally:
        await db.close()


async def test_a_failed_transaction_rolls_back_and_the_connection_stays_usable(store):
    def fail(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO guild_settings (guild_id) VALUES (1)")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await store.db.transaction(fail)
    assert await store.db.fetchall("SELECT guild_id FROM guild_settings") == []
    await store.db.transaction(lambda c: c.execute(
        "INSERT INTO guild_settings (guild_id) VALUES (2)"))
    assert [tuple(r) for r in await store.db.fetchall("SELECT guild_id FROM guild_settings")] \
        == [(2,)]


async def test_a_constraint_refusal_is_an_integrity_error_and_takes_its_transaction_back(
        store):
    def twice(conn) -> None:
        conn.execute("INSERT INTO guild_settings (guild_id) VALUES (1)")
        conn.execute("INSERT INTO guild_settings (guild_id) VALUES (1)")

    with pytest.raises(INTEGRITY_ERRORS):
        await store.db.transaction(twice)
    assert await store.db.fetchall("SELECT guild_id FROM guild_settings") == []
    with pytest.raises(INTEGRITY_ERRORS):  # outside a transaction too
        await store.db.execute("INSERT INTO disabled_packs (guild_id, pack_id)"
                               " VALUES (1, 'a'), (1, 'a')")
    assert await store.db.execute("INSERT INTO guild_settings (guild_id) VALUES (1)") == 1


async def test_postgres_rolls_back_the_work_before_a_failure_mid_transaction(postgres_url,
                                                                          bank):
    """PostgreSQL refuses every statement after an error until the transaction ends: the
    store rolls it back, so the connection is usable at once."""
    store = await Store.open(postgres_url, CoreRules.for_bank(bank))

    def fail_midway(conn) -> None:
        conn.execute("INSERT INTO guild_settings (guild_id) VALUES (1)")
        conn.execute("SELECT 1 / 0")

    try:
        with pytest.raises(Exception, match="division by zero"):
            await store.db.transaction(fail_midway)
        assert await store.db.fetchall("SELECT guild_id FROM guild_settings") == []
        assert await store.db.run(lambda c: c.in_transaction) is False
        assert await store.db.execute("INSERT INTO guild_settings (guild_id) VALUES (2)") == 1
    finally:
        await store.close()


async def test_the_helpers_return_rows_by_name_and_the_changed_count(store):
    await store.db.execute("INSERT INTO guild_settings (guild_id, time_limit) VALUES (?, ?)",
                           (5, 60))
    row = await store.db.fetchone("SELECT * FROM guild_settings WHERE guild_id = ?", (5,))
    assert row is not None and (row["guild_id"], row["time_limit"]) == (5, 60)
    assert await store.db.fetchone("SELECT * FROM guild_settings WHERE guild_id = 6") is None
    changed = await store.db.execute("UPDATE guild_settings SET time_limit = 90")
    assert changed == 1


async def test_the_pragmas_are_set_on_the_connection(db_path, bank):
    store = await Store.open(db_path, CoreRules.for_bank(bank), synchronous="NORMAL")
    try:
        pragmas = [(await store.db.fetchone(f"PRAGMA {p}"))[0]
                   for p in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")]
    finally:
        await store.close()
    assert pragmas == ["wal", 1, 1, 5000]


async def test_postgres_recovers_when_the_server_drops_its_connection(postgres_url):
    """A restart or failover ends the session: at most the call that meets the broken
    connection fails; the next ones run on a new connection."""
    import asyncpg

    db = await open_database(postgres_url)
    try:
        pid = (await db.fetchone("SELECT pg_backend_pid()"))[0]
        admin = await asyncpg.connect(postgres_url)
        await admin.execute("SELECT pg_terminate_backend($1)", pid)
        await admin.close()
        failures = 0
        for _ in range(3):
            try:
                await db.fetchone("SELECT 1")
            except (asyncpg.PostgresConnectionError, asyncpg.InterfaceError, OSError):
                failures += 1
        assert failures <= 1
        assert (await db.fetchone("SELECT pg_backend_pid()"))[0] != pid
    finally:
        await db.close()
