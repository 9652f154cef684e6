"""The schedule leader's lock, and the feed that tells the leader what changed.

One process runs the study rhythm (APScheduler cannot share its jobs between processes): the
one holding a PostgreSQL session-level advisory lock. The lock lives on its own direct
connection, kept open for as long as the process leads: when that connection drops, the
server lets the lock go and another process takes it. (A transaction-pooling proxy would hand
the session to others: the URL must reach PostgreSQL itself.)

A schedule or weekly post changed in any process is announced with NOTIFY; the leader listens
on its lock connection and brings its jobs in line with the database.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import asyncpg

from bot.store.db import Database
from bot.store.postgres import KEEPALIVES, redact

log = logging.getLogger(__name__)
LEADER_LOCK = 0x7475746F72_6C6561  # "tutor" "lea": pg_try_advisory_lock's key
CHANGES = "tutorbot_rhythm"  # the NOTIFY channel of schedule and weekly-post changes
PING_TIMEOUT_S = 5.0  # a connection that can't answer SELECT 1 in this long has gone

Listener = Callable[[str], None]
# What a lost or hung connection raises (a connection the server dropped mid-query may
# also leave asyncpg's protocol in a state it reports as an internal error).
UNREACHABLE = (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError,
               asyncpg.InternalClientError)


class LeaderLock:
    """pg_try_advisory_lock on a dedicated connection; `alive()` says whether it is held."""

    def __init__(self, url: str, key: int = LEADER_LOCK, listener: Listener | None = None) -> None:
        self.url, self.key, self.listener = url, key, listener
        self.conn: asyncpg.Connection | None = None
        self.held = False

    async def try_acquire(self) -> bool:
        """Takes the lock if nobody holds it; False (and no error) if it can't."""
        try:
            conn = await self._connection()
            self.held = bool(await asyncio.wait_for(
                conn.fetchval("SELECT pg_try_advisory_lock($1)", self.key), PING_TIMEOUT_S))
        except UNREACHABLE as exc:
            log.warning("leader lock: PostgreSQL at %s unreachable: %s", redact(self.url), exc)
            await self.close()
        return self.held

    async def alive(self) -> bool:
        """Whether the lock is still ours: its connection answers. A dropped connection means
        the server has let the lock go (and another process may hold it by now)."""
        if self.conn is None or self.conn.is_closed() or not self.held:
            return False
        try:
            await asyncio.wait_for(self.conn.fetchval("SELECT 1"), PING_TIMEOUT_S)
        except UNREACHABLE as exc:
            log.warning("leader lock: its connection dropped: %s", exc)
            await self.close()
            return False
        return True

    async def _connection(self) -> asyncpg.Connection:
        if self.conn is not None and not self.conn.is_closed():
            return self.conn
        # Keepalives: a leader whose machine vanished frees the lock in about 25 s.
        conn: asyncpg.Connection = await asyncio.wait_for(
            asyncpg.connect(self.url, server_settings=KEEPALIVES), PING_TIMEOUT_S)
        self.conn = conn
        if self.listener is not None:
            listener = self.listener
            await conn.add_listener(CHANGES, lambda *args: listener(str(args[-1])))
        return conn

    async def close(self) -> None:
        """Lets the lock go (the server releases it with the session)."""
        conn, self.conn, self.held = self.conn, None, False
        if conn is not None and not conn.is_closed():
            try:
                await asyncio.wait_for(conn.close(), PING_TIMEOUT_S)
            except UNREACHABLE:
                conn.terminate()


async def announce(db: Database, change: str) -> None:
    """Tells the leader, wherever it runs, that a schedule or weekly post changed."""
    await db.execute("SELECT pg_notify(?, ?)", (CHANGES, change))
