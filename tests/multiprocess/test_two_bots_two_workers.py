"""Past one machine, with real processes: two bot processes (shards 0 and 1 of 2, each the real
bot in its own simcord), two `tutorbot worker` processes, one PostgreSQL database, one Redis.

1. Every distinct explanation runs exactly once, whichever process asked for it.
2. A worker SIGKILLed mid-job: the job still completes, on the other worker.
3. The schedule leader exits: another process takes over without a double post.
4. Each bot process handles only the servers of its own shards.

The figures (wall time of each phase, the takeover, jobs per worker) print with `pytest -s`.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
import redis.asyncio as redis

from bot.leader import RETRY_S
from bot.queue.broker import STREAM, rekick_after
from tests.multiprocess.cluster import (
    SERVER_OF_SHARD,
    WORKER_TIMEOUT_S,
    BotProcess,
    Cluster,
    Services,
    running_cluster,
    until,
)
from tests.multiprocess.lab import TIME_LIMIT_S, runs_of, write_pack

PROBLEMS = ("mp-alpha", "mp-beta", "mp-gamma")
EPOCH = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp())  # simcord's clock starts here


@pytest.fixture
def services(postgres_url, redis_url, tmp_path) -> Services:
    logs = tmp_path / "logs"
    logs.mkdir()
    return Services(postgres_url, redis_url, write_pack(tmp_path / "packs"), logs)


@pytest.fixture
async def db(postgres_url):
    conn = await asyncpg.connect(postgres_url)
    yield conn
    await conn.close()


@pytest.mark.slow
async def test_two_bot_processes_and_two_workers(services, db):
    began = time.monotonic()
    print(f"\nlogs: {services.logs}")
    async with running_cluster(services) as cluster:
        print(f"start-up, 2 bot processes and 2 workers side by side: "
              f"{time.monotonic() - began:.1f} s")
        await each_process_knows_only_its_shards_servers(cluster)
        await each_distinct_explanation_runs_once(cluster, db)
        await a_killed_workers_job_completes_on_the_other(cluster, db)
        await the_leader_hands_over_without_a_double_post(cluster, db)
    print(f"total: {time.monotonic() - began:.1f} s")


async def each_process_knows_only_its_shards_servers(cluster: Cluster) -> None:
    worlds = [(await bot.event("ready", within_s=0.1))["world"] for bot in cluster.bots]
    assert worlds[0] == worlds[1]  # one Discord, seen from each process
    for bot in cluster.bots:
        assert (await bot.status())["guilds"] == [SERVER_OF_SHARD[bot.shard]]


async def each_distinct_explanation_runs_once(cluster: Cluster, db: asyncpg.Connection) -> None:
    """Both processes ask for three explanations at once: three runs in all."""
    began = time.monotonic()
    answers = await asyncio.gather(*(bot.explain(problem, member=i, within_s=60)
                                     for bot in cluster.bots
                                     for i, problem in enumerate(PROBLEMS)))
    wall = time.monotonic() - began

    for i, problem in enumerate(PROBLEMS):
        seen = [answers[b * len(PROBLEMS) + i] for b in range(len(cluster.bots))]
        assert {a["text"] for a in seen} == {f"```text\n{name(problem)} ran once\n```"}
        assert len({run_of(a) for a in seen}) == 1  # the same run: device and duration
    jobs = await job_rows(db)
    assert {p: (j["state"], j["attempts"]) for p, j in jobs.items()} == {
        p: ("done", 1) for p in PROBLEMS}
    assert await db.fetchval("SELECT count(*) FROM explanations") == len(PROBLEMS)
    runs = runs_of(cluster.services.packs)
    assert sorted(n for n, _ in runs) == sorted(name(p) for p in PROBLEMS)  # each ran once
    for run, pid in runs:  # by the worker its row names
        assert jobs[f"mp-{run}"]["worker"] == cluster.worker_of(pid).id
    assert await stream_length(cluster) == len(PROBLEMS)  # enqueued once each
    per_worker = Counter(cluster.worker_name(j["worker"]) for j in jobs.values())
    times = ", ".join(f"{a['seconds']:.1f}" for a in answers)
    deferred = ", ".join(f"{a['deferred_s']:.1f}" for a in answers)
    print(f"phase 1, {len(answers)} asks for {len(PROBLEMS)} explanations from 2 processes: "
          f"{wall:.1f} s; runs per worker {dict(sorted(per_worker.items()))}; "
          f"answers after {times} s (deferred after {deferred} s)")


async def a_killed_workers_job_completes_on_the_other(cluster: Cluster,
                                                      db: asyncpg.Connection) -> None:
    """The worker running a job is SIGKILLed: the bot's deadline re-kicks the job, the other
    worker runs it, and both asking processes get the result."""
    began = time.monotonic()
    deadline_s = rekick_after(WORKER_TIMEOUT_S)
    asking = [asyncio.create_task(bot.explain("mp-stall", member=0, within_s=deadline_s + 30))
              for bot in cluster.bots]
    stalled = await until(lambda: stalling(db), within_s=30)
    victim = cluster.worker_of_id(stalled["worker"])
    survivor = next(w for w in cluster.workers if w is not victim)
    await victim.kill()
    killed = time.monotonic()
    answers = await asyncio.gather(*asking)
    waited = time.monotonic() - killed

    assert {a["text"] for a in answers} == {"```text\nstall ran once\n```"}
    job = (await job_rows(db))["mp-stall"]
    assert (job["state"], job["attempts"], job["worker"]) == ("done", 2, survivor.id)
    stall_runs = [pid for run, pid in runs_of(cluster.services.packs) if run == "stall"]
    assert stall_runs == [victim.process.pid, survivor.process.pid]
    print(f"phase 2, a worker SIGKILLed mid-job: {time.monotonic() - began:.1f} s; "
          f"kill to result {waited:.1f} s (the bot re-kicks {deadline_s:.0f} s after the "
          f"claim: 2 x WORKER_TIMEOUT_S={WORKER_TIMEOUT_S} + margin)")


async def the_leader_hands_over_without_a_double_post(cluster: Cluster,
                                                      db: asyncpg.Connection) -> None:
    """Two schedules a minute apart in the follower's server. The leader posts the first and
    the follower, which runs that server, reveals it. The leader exits; the follower takes
    the lock, does not post the first run again, and posts the second."""
    began = time.monotonic()
    leader = await cluster.leader()
    follower = next(b for b in cluster.bots if b is not leader)
    theirs = follower.server
    now = max([(await bot.status())["simulated"] for bot in cluster.bots])
    first = (int(now) + 10) // 60 * 60 + 60  # on a minute, at least 10 s from now
    second = first + 60
    for slot in (first, second):  # as the server's admin: its own process answers
        added = await follower.ask("schedule", guild=theirs, time_of_day=hhmm(slot))
        assert "Schedule **#" in added["reply"]
    await until(lambda: follows(leader, 2), within_s=5)  # announced to the leader
    origin = time.time()
    await asyncio.gather(*(bot.ask("clock", origin=origin, start=first - 2)
                           for bot in cluster.bots))
    own = await leader.ask("challenge", guild=leader.server)  # open until first + 8
    own_id = challenge_of(own["posts"][-1])
    [post] = await until(lambda: leader.posts(theirs), within_s=10)
    posted_id = challenge_of(post)
    await follower.ask("mirror", guild=theirs, message=post)  # one Discord: both see it
    armed = (await leader.status())["armed"]
    assert own_id in armed and posted_id not in armed
    await until(lambda: arms(follower, posted_id), within_s=5)  # its sweep finds it
    assert own_id not in (await follower.status())["armed"]
    assert not (await follower.status())["leading"]

    stopping = time.time()
    assert await leader.stop() == 0
    exited = await leader.event("stopped", within_s=5)
    took_over = await follower.event("leading", within_s=15, value=True)
    takeover, after_exit = took_over["wall"] - stopping, took_over["wall"] - exited["wall"]
    # Only the follower's clock runs now: straight to the first run's deadline, then to the
    # second run.
    await follower.ask("jump", to=first + TIME_LIMIT_S + 1)
    await until(lambda: revealed(follower, theirs, post["id"]), within_s=5)
    # Taking over, it caught up with the first run, found it claimed, and did not post it.
    assert len(await follower.posts(theirs)) == 1
    assert f"the run of {EPOCH + first} was already made" in follower.log()
    await follower.ask("jump", to=second)
    await until(lambda: count_posts(follower, theirs, 2), within_s=10)  # posted here, once

    fires = await db.fetch("SELECT slot, outcome FROM job_fires ORDER BY slot")
    assert [(f["slot"], f["outcome"]) for f in fires] == [
        (EPOCH + first, "posted"), (EPOCH + second, "posted")]
    challenges = await db.fetch("SELECT id, closed_at, revealed_at FROM challenges"
                                " WHERE guild_id = $1 ORDER BY id", theirs)
    assert challenges[0]["id"] == posted_id and challenges[0]["revealed_at"] is not None
    assert len(challenges) == 2
    assert len(await follower.posts(theirs)) == 2
    assert own_id not in (await follower.status())["armed"]  # never another shard's
    print(f"phase 3, the leader exits: {time.monotonic() - began:.1f} s; the follower leads "
          f"{takeover:.1f} s after the leader's SIGTERM, {after_exit:.1f} s after its exit "
          f"(followers try the lock every {RETRY_S:.0f} s); {len(fires)} runs, each posted "
          f"once (leader {leader.shard}, then {follower.shard})")


# ---- reading the processes and the database ---------------------------------------------

def name(problem: str) -> str:
    return problem.removeprefix("mp-")


def run_of(answer: dict[str, Any]) -> str:
    """'cpu · 1.2 s' of 'cpu · 1.2 s · fresh run' (or cached run)."""
    return answer["ran_on"].rsplit(" · ", 1)[0]


def hhmm(slot: int) -> str:
    return f"{slot // 3600:02d}:{slot % 3600 // 60:02d}"


def challenge_of(post: dict[str, Any]) -> int:
    """The challenge id in a post's answer buttons (tutor:answer:<id>:<letter>)."""
    return int(post["components"][0]["components"][0]["custom_id"].split(":")[2])


async def job_rows(db: asyncpg.Connection) -> dict[str, asyncpg.Record]:
    rows = await db.fetch("SELECT problem_id, state, attempts, worker, label"
                          " FROM explanation_jobs")
    return {row["problem_id"]: row for row in rows}


async def stalling(db: asyncpg.Connection) -> asyncpg.Record | None:
    job = (await job_rows(db)).get("mp-stall")
    return job if job is not None and job["label"] == "stalling" else None


async def stream_length(cluster: Cluster) -> int:
    client = redis.from_url(cluster.services.redis_url)
    try:
        return int(await client.xlen(STREAM))
    finally:
        await client.aclose()


async def follows(bot: BotProcess, count: int) -> bool:
    return len((await bot.status())["schedules"]) == count


async def arms(bot: BotProcess, challenge_id: int) -> bool:
    return challenge_id in (await bot.status())["armed"]


async def revealed(bot: BotProcess, guild: int, message_id: int) -> bool:
    post = next(p for p in await bot.posts(guild) if p["id"] == message_id)
    return "Answer revealed" in post["titles"]


async def count_posts(bot: BotProcess, guild: int, count: int) -> bool:
    return len(await bot.posts(guild)) >= count
