"""PostgreSQL through asyncpg, behind the same Database interface as SQLite.

A unit of work is a plain function of one connection (see bot/store/db.py), so it runs here
as it does on SQLite: on the database's own thread, alone, one hop from the event loop. That
thread owns a private event loop and one asyncpg connection; each statement the function
executes is driven to completion on that loop. The bot's loop only ever awaits a future.

SQL arrives in the shared spelling (`?` or `:name` placeholders) and is turned into
PostgreSQL's (`$1`...) once per distinct statement, then prepared once per connection.
Arguments are matched to the types PostgreSQL inferred for them (an int where a float is
expected, a bool where an integer is), which SQLite never minded.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from bot.store.db import CLOSED, Database, Params, PgIntegrityError, Row, migrations

log = logging.getLogger(__name__)
T = TypeVar("T")
MIGRATION_LOCK = 0x7475746F72  # pg_advisory_lock key ("tutor"): one process migrates at a time
STATEMENT_CACHE = 512  # prepared statements kept per connection

# A quoted string or identifier (skipped), a `::` cast (kept), or a placeholder.
_TOKEN = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|::|\?|:([A-Za-z_][A-Za-z0-9_]*)")
_FLOAT_TYPES = {"float4", "float8", "numeric"}
_INT_TYPES = {"int2", "int4", "int8"}


@lru_cache(maxsize=4096)
def translate(sql: str) -> tuple[str, tuple[str, ...] | int]:
    """The statement with `$n` placeholders, and what fills them: the names of `:name`
    placeholders in order, or the count of `?` ones."""
    names: list[str] = []
    positional = 0

    def swap(match: re.Match[str]) -> str:
        nonlocal positional
        token = match.group(0)
        if token == "?":
            positional += 1
            return f"${positional}"
        name = match.group(1)
        if name is None:  # a quoted string or a cast
            return token
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    converted = _TOKEN.sub(swap, sql)
    if names and positional:
        raise ValueError(f"mixed ? and :name placeholders in {sql!r}")
    return converted, tuple(names) if names else positional


def arguments(sql: str, fills: tuple[str, ...] | int, params: Params) -> list[Any]:
    if isinstance(fills, int):
        if isinstance(params, Mapping) or len(params) != fills:
            raise ValueError(f"{sql!r} takes {fills} positional parameters")
        return list(params)
    if not isinstance(params, Mapping):
        raise ValueError(f"{sql!r} takes named parameters {fills}")
    return [params[name] for name in fills]


def _coerce(value: Any, type_name: str) -> Any:
    if value is None:
        return None
    if type_name in _FLOAT_TYPES and isinstance(value, int):
        return float(value)
    if type_name in _INT_TYPES and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


class PgCursor:
    """What sqlite3's cursor gives the store: rows, rowcount."""

    __slots__ = ("rows", "rowcount")

    def __init__(self, rows: list[Row], rowcount: int) -> None:
        self.rows, self.rowcount = rows, rowcount

    def fetchone(self) -> Row | None:
        return self.rows[0] if self.rows else None

    def fetchall(self) -> list[Row]:
        return self.rows

    def __iter__(self) -> Iterator[Row]:
        return iter(self.rows)


class PgConn:
    """One asyncpg connection, driven synchronously from the database's own thread."""

    def __init__(self, loop: asyncio.AbstractEventLoop, conn: asyncpg.Connection,
                 url: str) -> None:
        self.loop, self.conn, self.url = loop, conn, url
        self._prepared: dict[str, Any] = {}

    def ensure_connected(self) -> None:
        """Between units of work: a connection the server dropped (a restart, a failover,
        a network cut) is replaced, so the process recovers instead of failing every call."""
        if not self.conn.is_closed():
            return
        log.warning("the PostgreSQL connection was lost: reconnecting to %s", redact(self.url))
        self._prepared.clear()
        self.conn = self.loop.run_until_complete(_open_connection(self.url))

    @property
    def in_transaction(self) -> bool:
        return bool(self.conn.is_in_transaction())

    def execute(self, sql: str, params: Params = (), /) -> PgCursor:
        return self._wait(self._execute(sql, params))

    def executemany(self, sql: str, seq: Any, /) -> PgCursor:
        return self._wait(self._executemany(sql, list(seq)))

    def script(self, sql: str) -> None:
        """Several statements, no parameters (migrations)."""
        self._wait(self.conn.execute(sql))

    def _wait(self, work: Any) -> Any:
        try:
            return self.loop.run_until_complete(work)
        except asyncpg.IntegrityConstraintViolationError as exc:
            raise PgIntegrityError(str(exc)) from exc

    async def _statement(self, sql: str) -> tuple[Any, tuple[str, ...] | int]:
        converted, fills = translate(sql)
        statement = self._prepared.get(converted)
        if statement is None:
            if len(self._prepared) >= STATEMENT_CACHE:
                self._prepared.clear()
            statement = await self.conn.prepare(converted)
            self._prepared[converted] = statement
        return statement, fills

    async def _execute(self, sql: str, params: Params) -> PgCursor:
        statement, fills = await self._statement(sql)
        args = _typed(statement, arguments(sql, fills, params))
        try:
            rows = await statement.fetch(*args)
        except asyncpg.InvalidCachedStatementError:
            # Another process migrated a table under this prepared statement (a rolling
            # upgrade): prepare it again. Inside a transaction the server has already
            # aborted it, so the caller's unit of work fails and may be retried.
            self._prepared.pop(translate(sql)[0], None)
            if self.in_transaction:
                raise
            statement, fills = await self._statement(sql)
            rows = await statement.fetch(*args)
        return PgCursor(rows, _rowcount(statement.get_statusmsg(), rows))

    async def _executemany(self, sql: str, seq: Sequence[Params]) -> PgCursor:
        if not seq:
            return PgCursor([], 0)
        statement, fills = await self._statement(sql)
        await statement.executemany([_typed(statement, arguments(sql, fills, p)) for p in seq])
        return PgCursor([], len(seq))


def _typed(statement: Any, args: list[Any]) -> list[Any]:
    types = [t.name for t in statement.get_parameters()]
    return [_coerce(value, name) for value, name in zip(args, types, strict=True)]


def _rowcount(status: str, rows: list[Row]) -> int:
    """'UPDATE 3' -> 3, 'INSERT 0 1' -> 1; a SELECT counts its rows."""
    last = status.rsplit(" ", 1)[-1] if status else ""
    return int(last) if last.isdigit() else len(rows)


class PostgresDatabase(Database):
    """One connection and the one thread that drives it, as SqliteDatabase has."""

    dialect = "postgres"

    def __init__(self, executor: ThreadPoolExecutor, conn: PgConn, url: str) -> None:
        self._executor, self._conn = executor, conn
        self.path = redact(url)  # what logs and messages may show
        self._closed = False

    @classmethod
    async def open(cls, url: str, synchronous: str = "FULL") -> PostgresDatabase:  # type: ignore[override]
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="postgres")
        try:
            conn = await asyncio.wrap_future(executor.submit(_connect, url))
        except BaseException:
            executor.shutdown(wait=False)
            raise
        db = cls(executor, conn, url)
        try:
            version = await db.run(migrate)
        except BaseException:
            await db.close()
            raise
        log.info("database %s ready at schema version %d", redact(url), version)
        return db

    async def run(self, fn: Callable[[Any], T]) -> T:
        if self._closed:
            raise RuntimeError(CLOSED)
        return await asyncio.wrap_future(self._executor.submit(self._unit, fn))

    def _unit(self, fn: Callable[[PgConn], T]) -> T:
        self._conn.ensure_connected()
        return fn(self._conn)

    async def transaction(self, fn: Callable[[Any], T]) -> T:
        return await self.run(lambda c: pg_transaction(c, fn))


    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        closing = self._executor.submit(_disconnect, self._conn)
        self._executor.shutdown(wait=False)
        await asyncio.shield(asyncio.wrap_future(closing))


def pg_transaction(conn: PgConn, fn: Callable[[PgConn], T]) -> T:
    conn.execute("BEGIN")
    try:
        result = fn(conn)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return result


def redact(url: str) -> str:
    """The URL without its password (in the user part or the query), for logs."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        user, host = netloc.rsplit("@", 1)
        netloc = f"{user.split(':', 1)[0]}:***@{host}" if ":" in user else netloc
    query = re.sub(r"(^|&)password=[^&]*", r"\1password=***", parts.query)
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


# TCP keepalives per session: a peer that vanished (a machine lost, not a process ended) is
# noticed in about 25 s instead of the kernel's two hours; commands time out rather than
# holding the database thread forever.
KEEPALIVES = {"tcp_keepalives_idle": "10", "tcp_keepalives_interval": "5",
              "tcp_keepalives_count": "3"}
COMMAND_TIMEOUT_S = 60.0


async def _open_connection(url: str) -> asyncpg.Connection:
    raw = await asyncpg.connect(url, statement_cache_size=0, server_settings=KEEPALIVES,
                                command_timeout=COMMAND_TIMEOUT_S)
    # avg() of integers and sum() of bigints are numeric: read them as floats, as SQLite.
    await raw.set_type_codec("numeric", encoder=str, decoder=float, schema="pg_catalog",
                             format="text")
    return raw


def _connect(url: str) -> PgConn:
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    return PgConn(loop, loop.run_until_complete(_open_connection(url)), url)


def _disconnect(conn: PgConn) -> None:
    try:
        conn.loop.run_until_complete(conn.conn.close(timeout=5))
    finally:
        conn.loop.close()


def migrate(conn: PgConn) -> int:
    """Applies the PostgreSQL migrations not yet applied, each with its version bump in one
    transaction, under an advisory lock so that processes starting together take turns."""
    conn.execute("SELECT pg_advisory_lock(?)", (MIGRATION_LOCK,))
    try:
        conn.script("CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)")
        row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
        current = int(row[0] or 0) if row else 0
        for number, name, sql in migrations("postgres"):
            if number <= current:
                continue
            log.info("applying migration postgres/%s", name)
            conn.script(f"BEGIN;\n{sql}\nINSERT INTO schema_version VALUES ({number});\n"
                        "COMMIT;")
            current = number
        return current
    finally:
        if conn.in_transaction:  # a failed migration: its error, not the unlock's, is raised
            conn.script("ROLLBACK")
        conn.execute("SELECT pg_advisory_unlock(?)", (MIGRATION_LOCK,))
