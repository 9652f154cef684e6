"""What a command says when PostgreSQL or Redis cannot be reached: one line, not a trace."""

from __future__ import annotations

import asyncpg
import redis.exceptions

from bot.config import Config
from bot.store.postgres import redact

UNREACHABLE = (OSError, TimeoutError, redis.exceptions.ConnectionError,
               asyncpg.PostgresError, asyncpg.InterfaceError)


def unreachable_line(error: BaseException, config: Config) -> str:
    """Names the server by its URL (password hidden) and says what to check."""
    if isinstance(error, redis.exceptions.ConnectionError):
        return (f"Cannot reach Redis at {redact(config.redis_url)} ({error}): check REDIS_URL "
                "and that the server is running.")
    where = redact(config.database_url) if config.database_url else str(config.database_path)
    if isinstance(error, asyncpg.PostgresError):
        return f"PostgreSQL at {where} refused the connection: {error}. Check DATABASE_URL."
    return (f"Cannot reach the database at {where} ({error}): check DATABASE_URL and that "
            "the server is running.")
