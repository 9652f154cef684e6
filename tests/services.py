"""Real PostgreSQL and Redis servers for the tests that need them.

`.ci/run` starts both (see .ci/services) and exports their URLs; so can a developer
(`source .ci/services && services_start`). Without them, those tests are skipped with the
reason; with TUTORBOT_REQUIRE_SERVICES=1 (as in CI) they fail instead, so CI never passes
by skipping them.
"""

from __future__ import annotations

import os
import uuid

import pytest

POSTGRES_ENV = "TUTORBOT_TEST_POSTGRES_URL"
REDIS_ENV = "TUTORBOT_TEST_REDIS_URL"
HOW = "start them with `source .ci/services && services_start`"


def service_url(variable: str, what: str) -> str:
    url = os.environ.get(variable, "")
    if url:
        return url
    message = f"needs a {what} server: {variable} is unset ({HOW})"
    if os.environ.get("TUTORBOT_REQUIRE_SERVICES") == "1":
        pytest.fail(message)
    pytest.skip(message)


def database_url(server_url: str, name: str) -> str:
    return server_url.rsplit("/", 1)[0] + "/" + name


TEMPLATE = f"tutorbot_template_{os.getpid()}"  # one per test process: migrated once
_templates: set[str] = set()
_test_databases: dict[str, str] = {}  # server URL -> this process's test database


async def migrated_template(server_url: str) -> str:
    """A database migrated to the latest schema, made once per test process: copying it
    (CREATE DATABASE ... TEMPLATE) is several times faster than migrating each new one."""
    if server_url not in _templates:
        from bot.store.postgres import PostgresDatabase

        admin = await asyncpg_connect(server_url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)')
            await admin.execute(f'CREATE DATABASE "{TEMPLATE}"')
        finally:
            await admin.close()
        db = await PostgresDatabase.open(database_url(server_url, TEMPLATE))
        await db.close()
        _templates.add(server_url)
    return TEMPLATE


async def asyncpg_connect(url: str):  # type: ignore[no-untyped-def]
    import asyncpg

    return await asyncpg.connect(url)


async def emptied_test_database(server_url: str) -> str:
    """The test process's own database at the latest schema, every table emptied: what each
    test starts from. Emptying (one TRUNCATE) costs a few milliseconds where copying a
    database costs half a second, and the store tests run hundreds of times."""
    if server_url not in _test_databases:
        _test_databases[server_url] = await fresh_postgres_database(server_url)
    url = _test_databases[server_url]
    admin = await asyncpg_connect(url)
    try:
        tables = [r[0] for r in await admin.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            " AND tablename <> 'schema_version'")]
        await admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                            " WHERE datname = current_database() AND pid <> pg_backend_pid()")
        await admin.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
    finally:
        await admin.close()
    return url


async def fresh_postgres_database(server_url: str, *, migrated: bool = True) -> str:
    """A new database on the server, at the latest schema (or empty); its URL."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    template = f' TEMPLATE "{await migrated_template(server_url)}"' if migrated else ""
    admin = await asyncpg_connect(server_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"{template}')
    finally:
        await admin.close()
    return database_url(server_url, name)


async def drop_postgres_database(server_url: str, url: str) -> None:
    name = url.rsplit("/", 1)[1]
    admin = await asyncpg_connect(server_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()
