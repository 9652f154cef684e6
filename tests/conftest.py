import pytest

from tests.services import (
    POSTGRES_ENV,
    REDIS_ENV,
    drop_postgres_database,
    emptied_test_database,
    fresh_postgres_database,
    service_url,
)


@pytest.fixture
async def postgres_url():
    """A PostgreSQL database at the latest schema with every table empty, for one test
    (connections a previous test left open are ended first)."""
    return await emptied_test_database(service_url(POSTGRES_ENV, "PostgreSQL"))


@pytest.fixture
async def fresh_postgres_url():
    """A PostgreSQL database of its own at the latest schema, dropped after the test: for
    tests that need a second database beside postgres_url's."""
    server = service_url(POSTGRES_ENV, "PostgreSQL")
    url = await fresh_postgres_database(server)
    yield url
    await drop_postgres_database(server, url)


@pytest.fixture
async def empty_postgres_url():
    """A new PostgreSQL database with no schema at all (migration tests)."""
    server = service_url(POSTGRES_ENV, "PostgreSQL")
    url = await fresh_postgres_database(server, migrated=False)
    yield url
    await drop_postgres_database(server, url)


@pytest.fixture
async def redis_url():
    """A Redis database emptied before the test."""
    import redis.asyncio as redis

    url = service_url(REDIS_ENV, "Redis")
    client = redis.from_url(url)
    await client.flushdb()
    await client.aclose()
    return url
