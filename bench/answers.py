"""Answers per second and latency through core and store, on SQLite and on PostgreSQL, beside
plain sqlite3 as the floor.

    python bench/answers.py [--answers 20000] [--synchronous FULL] [--postgres URL]

Prints, for each backend: saturated throughput with many concurrent members, and p50/p99
latency at an offered load of 1,000 answers/s; then one-insert-one-commit sqlite3 on the same
disk for scale. PostgreSQL runs against the server at --postgres (by default
$TUTORBOT_TEST_POSTGRES_URL; none: SQLite only), in databases this bench creates and drops.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.core.errors import ChallengeError  # noqa: E402
from bot.core.rules import CoreRules  # noqa: E402
from bot.core.service import ChallengeService  # noqa: E402
from bot.store import Store  # noqa: E402
from bot.store.records import GuildSettings  # noqa: E402
from tests.factories import bank as make_bank  # noqa: E402

BANK = make_bank(problems_per_pack=5, packs=("alpha", "beta"))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@contextlib.asynccontextmanager
async def database(folder: Path, postgres: str | None, name: str) -> AsyncIterator[str]:
    """Where one run's store lives: a new SQLite file, or a new database on the PostgreSQL
    server (dropped afterwards)."""
    if postgres is None:
        yield str(folder / f"{name}.db")
        return
    import asyncpg

    db_name = f"bench_answers_{name}_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(postgres)
    try:
        await admin.execute(f'CREATE DATABASE "{db_name}"')
        try:
            yield postgres.rsplit("/", 1)[0] + "/" + db_name
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
    finally:
        await admin.close()


async def open_service(where: str, synchronous: str):
    rules = CoreRules.for_bank(BANK)
    store = await Store.open(where, rules, synchronous=synchronous)
    service = ChallengeService(store, BANK, rules)
    config = GuildSettings(1, multiple_per_channel=True)
    now = time.time()
    challenges = [await service.start(guild_id=1, channel_id=c, starter_id=0, problem=p,
                                      settings=config, now=now)
                  for c, p in enumerate(BANK.problems.values())]
    return store, service, challenges


def submissions(challenges, members: int, count: int, seed: int):
    """Each (member, challenge) pair at most twice: two clicks, like real members."""
    rng = random.Random(seed)
    pairs = [(m, ch) for m in range(members) for ch in challenges]
    rng.shuffle(pairs)
    out = []
    for member, ch in pairs:
        out.extend((member, ch, rng.choice(ch.letters)) for _ in range(2))
        if len(out) >= count:
            break
    return out[:count]


async def answer(service, member, ch, choice, sid, latencies):
    started = time.perf_counter()
    # A refused answer (already solved, no attempts left) is still a full round trip.
    with contextlib.suppress(ChallengeError):
        await service.answer(ch.id, member, choice, time.time(), sid)
    latencies.append(time.perf_counter() - started)


async def saturated(where: str, synchronous: str, count: int, concurrency: int):
    store, service, challenges = await open_service(where, synchronous)
    work = submissions(challenges, members=count // 4, count=count, seed=1)
    latencies: list[float] = []
    queue = iter(enumerate(work))

    async def member_loop():
        for n, (member, ch, choice) in queue:
            await answer(service, member, ch, choice, f"s{n}", latencies)

    started = time.perf_counter()
    await asyncio.gather(*(member_loop() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    await store.close()
    return count / elapsed, latencies


async def offered(where: str, synchronous: str, rate: int, seconds: float):
    store, service, challenges = await open_service(where, synchronous)
    work = submissions(challenges, members=5000, count=int(rate * seconds), seed=2)
    latencies: list[float] = []
    tasks = []
    start = time.perf_counter()
    for n, (member, ch, choice) in enumerate(work):
        delay = start + n / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(answer(service, member, ch, choice, f"o{n}", latencies)))
    await asyncio.gather(*tasks)
    await store.close()
    return latencies


def sqlite_floor(folder: Path, synchronous: str, count: int) -> float:
    conn = sqlite3.connect(folder / "floor.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(f"PRAGMA synchronous = {synchronous}")
    conn.execute("CREATE TABLE attempts (challenge_id INTEGER, member_id INTEGER, attempt_no"
                 " INTEGER, choice TEXT, correct INTEGER, points INTEGER, answered_at REAL,"
                 " submission_id TEXT UNIQUE, PRIMARY KEY (challenge_id, member_id, attempt_no))")
    started = time.perf_counter()
    for n in range(count):
        conn.execute("BEGIN")
        conn.execute("INSERT INTO attempts VALUES (?, ?, 1, 'A', 0, 0, ?, ?)",
                     (n % 10, n, time.time(), f"f{n}"))
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return count / elapsed


async def backend(folder: Path, postgres: str | None,
                  args: argparse.Namespace) -> tuple[float, list[float], list[float]]:
    """Saturated answers/s and its latencies, and the latencies at the offered rate."""
    async with database(folder, postgres, "saturated") as where:
        rate, lat = await saturated(where, args.synchronous, args.answers, args.concurrency)
    async with database(folder, postgres, "offered") as where:
        at_rate = await offered(where, args.synchronous, args.rate, args.seconds)
    return rate, lat, at_rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=500)
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--synchronous", default="FULL", choices=["NORMAL", "FULL"])
    parser.add_argument("--postgres", default=os.environ.get("TUTORBOT_TEST_POSTGRES_URL"),
                        help="a PostgreSQL server URL ('' for SQLite only)")
    args = parser.parse_args()
    backends: dict[str, str | None] = {"sqlite": None}
    if args.postgres:
        backends["postgres"] = args.postgres
    figures = {}
    with tempfile.TemporaryDirectory(dir=Path.cwd()) as tmp:
        folder = Path(tmp)
        for name, server in backends.items():
            figures[name] = asyncio.run(backend(folder, server, args))
        floor = sqlite_floor(folder, args.synchronous, args.answers)
    ms = 1000.0
    print(f"answers={args.answers}  concurrent members={args.concurrency}  "
          f"offered {args.rate:,}/s for {args.seconds:g} s  SQLite synchronous={args.synchronous}")
    print(f"{'backend':10} {'saturated':>14} {'p50':>9} {'p99':>9}   "
          f"{'at ' + format(args.rate, ',') + '/s p50':>16} {'p99':>9} {'mean':>9}")
    for name, (rate, lat, at_rate) in figures.items():
        print(f"{name:10} {rate:>10,.0f} a/s {percentile(lat, .5) * ms:>6.2f} ms "
              f"{percentile(lat, .99) * ms:>6.2f} ms   {percentile(at_rate, .5) * ms:>13.2f} ms "
              f"{percentile(at_rate, .99) * ms:>6.2f} ms {statistics.fmean(at_rate) * ms:>6.2f} ms")
    print(f"plain sqlite3, one insert + commit each: {floor:9,.0f} rows/s")
    print(f"ratio tutorbot (SQLite) / sqlite3 floor: {figures['sqlite'][0] / floor:.2f}")


if __name__ == "__main__":
    main()
