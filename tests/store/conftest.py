import sqlite3

import pytest

from bot.core.rules import CoreRules
from bot.core.service import ChallengeService
from bot.store import Store
from bot.store.records import GuildSettings
from tests.factories import bank as make_bank

GUILD = 10
CHANNEL = 20


@pytest.fixture
def bank():
    return make_bank(problems_per_pack=5, packs=("pack", "other"))


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "tutorbot.db"


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request):
    """Every store test runs on both backends: the contract the repositories keep."""
    return request.param


@pytest.fixture
def database(backend, db_path, request):
    """Where the store lives: the SQLite file, or a fresh PostgreSQL database."""
    if backend == "sqlite":
        return db_path
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def read_elsewhere(backend, database):
    """Reads through a connection of its own, as another process would: only what the
    store committed shows. Rows come back as tuples."""
    async def read(sql, params=()):
        if backend == "sqlite":
            with sqlite3.connect(database) as conn:
                return conn.execute(sql, params).fetchall()
        import asyncpg

        from bot.store.postgres import translate
        conn = await asyncpg.connect(database)
        try:
            return [tuple(r) for r in await conn.fetch(translate(sql)[0], *params)]
        finally:
            await conn.close()
    return read


@pytest.fixture
async def store(bank, database):
    store = await Store.open(database, CoreRules.for_bank(bank))
    yield store
    await store.close()


@pytest.fixture
def service(store, bank):
    return ChallengeService(store, bank, CoreRules.for_bank(bank))


@pytest.fixture
def settings():
    return GuildSettings(GUILD, multiple_per_channel=True)


@pytest.fixture
def open_challenge(service, bank, settings):
    async def open_(problem_id="pack-0", now=1_000_000.0, channel=CHANNEL, **changes):
        from dataclasses import replace

        return await service.start(guild_id=GUILD, channel_id=channel, starter_id=1,
                                   problem=bank.problems[problem_id],
                                   settings=replace(settings, **changes), now=now)
    return open_
