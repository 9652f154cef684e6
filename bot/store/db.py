"""The one long-lived aiosqlite connection: pragmas, migrations, and transactions."""

from __future__ import annotations

import logging
import re
import sqlite3
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import TypeVar

import aiosqlite

log = logging.getLogger(__name__)
T = TypeVar("T")
MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
SYNCHRONOUS_LEVELS = ("OFF", "NORMAL", "FULL", "EXTRA")


def migrations() -> list[tuple[int, str, str]]:
    """(number, name, sql) for every migration file, in order."""
    found = []
    for entry in resources.files("bot.store").joinpath("migrations").iterdir():
        match = MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    numbers = [n for n, _, _ in found]
    if numbers != list(range(1, len(found) + 1)):
        raise RuntimeError(f"migrations must be numbered 1..N without gaps, found {numbers}")
    return found


class Database:
    """Owns the connection. SQL runs on aiosqlite's thread, one transaction at a time."""

    def __init__(self, conn: aiosqlite.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path

    @classmethod
    async def open(cls, path: Path | str, synchronous: str = "FULL") -> Database:
        if synchronous.upper() not in SYNCHRONOUS_LEVELS:
            raise ValueError(f"synchronous must be one of {SYNCHRONOUS_LEVELS}")
        path = Path(path)
        if str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we issue BEGIN/COMMIT ourselves, so a batch is one transaction.
        conn = await aiosqlite.connect(path, isolation_level=None)
        conn.row_factory = sqlite3.Row
        db = cls(conn, path)
        await db.run(lambda c: _configure(c, synchronous.upper()))
        version = await db.run(_migrate)
        log.info("database %s ready at schema version %d", path, version)
        return db

    async def run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Runs fn on the connection's own thread: a whole transaction in one hop.

        aiosqlite serialises everything through that thread, so fn never races other SQL.
        """
        return await self.conn._execute(fn, self.conn._conn)

    async def transaction(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        return await self.run(lambda c: in_transaction(c, fn))

    async def close(self) -> None:
        await self.conn.close()


def in_transaction(conn: sqlite3.Connection, fn: Callable[[sqlite3.Connection], T]) -> T:
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = fn(conn)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:  # also after a failed COMMIT, or the connection stays stuck
            conn.execute("ROLLBACK")
        raise
    return result


def _configure(conn: sqlite3.Connection, synchronous: str) -> None:
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(f"PRAGMA synchronous = {synchronous}")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA busy_timeout = 5000")


def _migrate(conn: sqlite3.Connection) -> int:
    current = conn.execute("PRAGMA user_version").fetchone()[0]
    for number, name, sql in migrations():
        if number <= current:
            continue
        log.info("applying migration %s", name)
        # executescript commits first; the whole file and the version bump are one transaction.
        conn.executescript(f"BEGIN;\n{sql}\nPRAGMA user_version = {number};\nCOMMIT;")
        current = number
    return current
