"""The database a store runs on: what every backend offers (Database, Conn), and the SQLite
one: one long-lived connection, its thread, pragmas, migrations, and transactions.

Repositories hand a whole unit of work, a plain function of one connection, to run() or
transaction(); the function runs on the database's own thread, alone. The same functions run
on PostgreSQL (bot/store/postgres.py), whose connection speaks the same small interface.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from pathlib import Path
from typing import Any, Protocol, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")
Params = Sequence[Any] | Mapping[str, Any]
MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
SYNCHRONOUS_LEVELS = ("OFF", "NORMAL", "FULL", "EXTRA")
CLOSED = "Cannot operate on a closed database."
Row = Any  # sqlite3.Row or asyncpg.Record: both read by name, by position, and unpack


class Cursor(Protocol):
    rowcount: int

    def fetchone(self) -> Row | None: ...

    def fetchall(self) -> list[Row]: ...

    def __iter__(self) -> Any: ...


class Conn(Protocol):
    """What a unit of work may do with its connection: sqlite3's, or PostgreSQL's adapter.

    SQL is written once, with `?` or `:name` placeholders, in the part of SQL both speak
    (upserts with ON CONFLICT, RETURNING, FILTER); where the two differ, `dialect` says which
    one runs. What both accept: an upsert names its conflict target, and its SET names the
    existing row by its table (`points = members.points + excluded.points`; PostgreSQL finds
    a bare `points` ambiguous); a subquery in FROM has an alias; a truth value is a
    comparison (`correct = 1`), never an integer; the larger of two values is LARGER."""

    @property
    def in_transaction(self) -> bool: ...

    def execute(self, sql: str, params: Params = ..., /) -> Any: ...

    def executemany(self, sql: str, seq: Any, /) -> Any: ...


# The larger of two non-NULL values: SQLite's two-argument max() is PostgreSQL's greatest().
LARGER = "CASE WHEN {0} > {1} THEN {0} ELSE {1} END"


class PgIntegrityError(Exception):
    """A PostgreSQL constraint refused a write (sqlite3.IntegrityError on SQLite)."""


INTEGRITY_ERRORS: tuple[type[Exception], ...] = (sqlite3.IntegrityError, PgIntegrityError)


def dialect(conn: Any) -> str:
    """'sqlite' or 'postgres': for the few statements the two spell differently."""
    return "sqlite" if isinstance(conn, sqlite3.Connection) else "postgres"


def migrations(backend: str = "sqlite") -> list[tuple[int, str, str]]:
    """(number, name, sql) for every migration file of a backend, in order."""
    found = []
    folder = resources.files("bot.store").joinpath("migrations")
    if backend == "postgres":
        folder = folder.joinpath("postgres")
    for entry in folder.iterdir():
        match = MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    numbers = [n for n, _, _ in found]
    if numbers != list(range(1, len(found) + 1)):
        raise RuntimeError(f"migrations must be numbered 1..N without gaps, found {numbers}")
    return found


class Database:
    """What repositories use, whatever the backend. SQLite's unless a URL says otherwise."""

    dialect = "sqlite"
    path: Path | str

    @staticmethod
    async def open(path: Path | str, synchronous: str = "FULL") -> Database:
        return await SqliteDatabase.open(path, synchronous)

    async def run(self, fn: Callable[[Any], T]) -> T:
        raise NotImplementedError

    async def transaction(self, fn: Callable[[Any], T]) -> T:
        raise NotImplementedError

    async def execute(self, sql: str, params: Params = ()) -> int:
        """One statement, committed on its own; returns how many rows it changed."""
        return await self.run(lambda c: c.execute(sql, params).rowcount)

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        return await self.run(lambda c: c.execute(sql, params).fetchall())

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        row: Row | None = await self.run(lambda c: c.execute(sql, params).fetchone())
        return row

    async def close(self) -> None:
        raise NotImplementedError


async def open_database(url_or_path: str | Path, synchronous: str = "FULL") -> Database:
    """PostgreSQL for a postgresql:// URL, else the SQLite file at that path."""
    text = str(url_or_path)
    if text.startswith(("postgresql://", "postgres://")):
        from bot.store.postgres import PostgresDatabase

        return await PostgresDatabase.open(text)
    return await SqliteDatabase.open(url_or_path, synchronous)


class SqliteDatabase(Database):
    """Owns one connection and the one thread that ever touches it.

    Every call is queued to that thread and runs alone, in order, so a function handed to
    run() or transaction() never races other SQL and the event loop never blocks on disk.
    The thread is an executor's: at interpreter exit it finishes what is queued and ends,
    so a Database nobody closed cannot keep the process alive.
    """

    def __init__(self, executor: ThreadPoolExecutor, conn: sqlite3.Connection,
                 path: Path) -> None:
        self._executor = executor
        self._conn = conn
        self.path = path
        self._closed = False

    @classmethod
    async def open(cls, path: Path | str, synchronous: str = "FULL") -> SqliteDatabase:
        if synchronous.upper() not in SYNCHRONOUS_LEVELS:
            raise ValueError(f"synchronous must be one of {SYNCHRONOUS_LEVELS}")
        path = Path(path)
        if str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")
        try:
            # Connected on its own thread: sqlite3's same-thread check then guards the rule.
            conn = await asyncio.wrap_future(executor.submit(_connect, path))
        except BaseException:
            executor.shutdown(wait=False)
            raise
        db = cls(executor, conn, path)
        try:
            await db.run(lambda c: _configure(c, synchronous.upper()))
            version = await db.run(_migrate)
        except BaseException:
            await db.close()
            raise
        log.info("database %s ready at schema version %d", path, version)
        return db

    async def run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Runs fn(connection) on the connection's thread: a whole unit of work in one hop.

        Cancelling the caller before fn starts means fn never runs; once started, it finishes.
        """
        if self._closed:
            raise sqlite3.ProgrammingError(CLOSED)
        return await asyncio.wrap_future(self._executor.submit(fn, self._conn))

    async def transaction(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Runs fn inside BEGIN IMMEDIATE ... COMMIT, rolled back if it raises."""
        return await self.run(lambda c: in_transaction(c, fn))


    async def close(self) -> None:
        """Closes the connection once every call already queued has run; again, does nothing."""
        if self._closed:
            return
        self._closed = True
        closing = self._executor.submit(self._conn.close)
        self._executor.shutdown(wait=False)  # the close above still runs; then the thread ends
        # Shielded: a caller cancelled mid-close must not cancel the close itself.
        await asyncio.shield(asyncio.wrap_future(closing))


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


def _connect(path: Path) -> sqlite3.Connection:
    # isolation_level=None: we issue BEGIN/COMMIT ourselves, so a batch is one transaction.
    conn = sqlite3.connect(path, isolation_level=None)
    conn.row_factory = sqlite3.Row
    return conn


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
