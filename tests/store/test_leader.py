"""Several bot processes on one database: which challenges each one's timers are for, the
schedule leader's lock (real PostgreSQL), and one post per run whoever fires it."""

from __future__ import annotations

import asyncio

import asyncpg

from bot.core.rules import CoreRules
from bot.leader import Leadership
from bot.shards import shard_of
from bot.store import Store
from bot.store.db import open_database
from bot.store.leader import LeaderLock, announce
from bot.store.owned import OwnedChallengeRepo


def guild_in(shard: int, count: int, n: int = 1) -> int:
    """A server id in this shard: Discord's rule reads the bits above the 22nd."""
    guild = ((shard + count * n) << 22) | 12345
    assert shard_of(guild, count) == shard
    return guild


async def test_each_process_reads_the_challenges_of_its_own_shards(store, service, bank,
                                                                   settings):
    async def open_in(shard: int, channel: int) -> int:
        challenge = await service.start(guild_id=guild_in(shard, 3), channel_id=channel,
                                        starter_id=1, problem=bank.problems["pack-0"],
                                        settings=settings, now=1000.0 + channel)
        return challenge.id

    ids = {shard: await open_in(shard, 100 + shard) for shard in range(3)}
    closed = await open_in(2, 200)
    await store.challenges.close(closed, 2000.0)  # closed, its reveal not yet shown
    repo = OwnedChallengeRepo(store.db)

    assert [i for i, _ in await repo.open_ones((3, (0, 2)))] == [ids[0], ids[2]]
    assert [i for i, _ in await repo.open_ones((3, (1,)))] == [ids[1]]
    assert [i for i, _ in await repo.open_ones(None)] == [ids[0], ids[1], ids[2]]
    assert await repo.unrevealed((3, (2,))) == [closed]
    assert await repo.unrevealed((3, (0, 1))) == []


async def terminate(server_url: str, conn: asyncpg.Connection) -> None:
    """Drops a connection from the server's side, as a network failure would."""
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute("SELECT pg_terminate_backend($1)", conn.get_server_pid())
    finally:
        await admin.close()


async def test_one_process_leads_until_its_lock_connection_drops(postgres_url):
    first, second = LeaderLock(postgres_url), LeaderLock(postgres_url)
    assert await first.try_acquire()
    assert not await second.try_acquire()
    assert await first.alive()

    assert first.conn is not None
    await terminate(postgres_url, first.conn)

    assert not await first.alive()  # it stops leading
    assert await second.try_acquire()  # and the server has let the lock go
    assert not await first.try_acquire()
    await first.close()
    await second.close()


async def test_leadership_hands_over_when_the_leader_is_cut_off(postgres_url):
    events: list[str] = []

    def leadership(name: str) -> Leadership:
        async def lead() -> None:
            events.append(f"{name} leads")

        async def follow() -> None:
            events.append(f"{name} follows")
        return Leadership(LeaderLock(postgres_url), lead=lead, follow=follow, retry_s=0.05)

    a, b = leadership("a"), leadership("b")
    await a.start()
    await until(lambda: a.leading)
    await b.start()
    await asyncio.sleep(0.2)
    assert events == ["a leads"] and not b.leading

    assert isinstance(a.lock, LeaderLock) and a.lock.conn is not None
    await terminate(postgres_url, a.lock.conn)
    await until(lambda: b.leading and not a.leading)  # for a moment both may lead: runs
    assert sorted(events) == ["a follows", "a leads", "b leads"]  # are claimed, never twice
    await a.close()
    await b.close()
    assert events[-1] == "b follows"


async def until(condition, seconds: float = 5.0) -> None:
    async with asyncio.timeout(seconds):
        while not condition():  # noqa: ASYNC110 - the state of another task's loop
            await asyncio.sleep(0.01)


async def test_a_change_announced_in_any_process_reaches_the_leader(postgres_url):
    heard: asyncio.Queue[str] = asyncio.Queue()
    lock = LeaderLock(postgres_url, listener=heard.put_nowait)
    assert await lock.try_acquire()  # listening from here on
    elsewhere = await open_database(postgres_url)  # another process's store
    try:
        await announce(elsewhere, "schedule:7")
        assert await asyncio.wait_for(heard.get(), 5.0) == "schedule:7"
    finally:
        await elsewhere.close()
        await lock.close()


async def test_two_leaders_firing_the_same_run_post_it_once(postgres_url, bank):
    """A leader handing over may fire a run its successor fires again: each claims the run
    in the database first, on its own connection, and only one claim wins."""
    stores = [await Store.open(postgres_url, CoreRules.for_bank(bank)) for _ in range(2)]
    try:
        claims = await asyncio.gather(*(s.fires.claim("timing:UTC|*|09:00", 1_700_000_000,
                                                      1_700_000_001.0) for s in stores))
        assert sorted(claims) == [False, True]
    finally:
        for store in stores:
            await store.close()
