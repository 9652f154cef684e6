"""The sweep of a sharded process: how long its query for the open challenges of its own
shards takes, with many servers and a long history.

    python bench/sweep.py [--closed 1000000] [--open 10000] [--shards 4] [--database URL]

Fills the challenges table through the real schema (SQLite in a temporary folder, or the
PostgreSQL database at URL, which should be empty): `--closed` finished challenges and
`--open` running ones, one per channel, spread over servers in every shard. Then times the
query one process of `--shards` makes every few seconds (bot/store/owned.py), and the
unfiltered one a single process makes at start-up. No ANALYZE: the bot never runs one.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.core.rules import CoreRules  # noqa: E402
from bot.store import Store  # noqa: E402
from bot.store.owned import OwnedChallengeRepo, Shards  # noqa: E402
from tests.factories import bank as make_bank  # noqa: E402

BANK = make_bank(problems_per_pack=12, packs=("pack",))
COLUMNS = ("guild_id", "channel_id", "problem_id", "pack_id", "kind", "difficulty", "answer",
           "letters", "attempts_allowed", "opened_at", "deadline", "closed_at", "revealed_at",
           "scoring_mode", "hint_cost_percent")
INSERT = (f"INSERT INTO challenges ({', '.join(COLUMNS)})"
          f" VALUES ({', '.join('?' * len(COLUMNS))})")
BATCH = 20_000


def rows(closed: int, running: int, servers: int):
    rng = random.Random(7)
    now = time.time()
    for n in range(closed + running):
        guild = (rng.randrange(1 << 30) << 22) | n % servers
        is_open = n >= closed
        opened = now - (60 if is_open else rng.uniform(3600, 86400 * 365))
        yield (guild, 10_000 + n, "pack-0", "pack", "conceptual", "intermediate", "A", "ABCD",
               2, opened, opened + 120, None if is_open else opened + 120,
               None if is_open else opened + 121, "speed", 50)


async def fill(store: Store, closed: int, running: int) -> None:
    batch: list[tuple[object, ...]] = []
    for row in rows(closed, running, servers=5000):
        batch.append(row)
        if len(batch) == BATCH:
            chunk, batch = batch, []
            await store.db.transaction(lambda c, chunk=chunk: c.executemany(INSERT, chunk))
    if batch:
        await store.db.transaction(lambda c: c.executemany(INSERT, batch))


async def timed(repo: OwnedChallengeRepo, shards: Shards, repeats: int) -> tuple[float, float, int]:
    times, found = [], 0
    for _ in range(repeats):
        start = time.perf_counter()
        found = len(await repo.open_ones(shards))
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.99) - 1], found


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--closed", type=int, default=1_000_000)
    parser.add_argument("--open", type=int, default=10_000)
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--database", default="")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        where = args.database or str(Path(folder) / "sweep.db")
        store = await Store.open(where, CoreRules.for_bank(BANK), "NORMAL")
        try:
            start = time.perf_counter()
            await fill(store, args.closed, args.open)
            print(f"filled {args.closed:,} closed and {args.open:,} open challenges on "
                  f"{store.db.dialect} in {time.perf_counter() - start:.1f} s")
            repo = OwnedChallengeRepo(store.db)
            for label, shards in ((f"one process of {args.shards}", (args.shards, (0,))),
                                  ("every shard", None)):
                median, p99, found = await timed(repo, shards, args.repeats)
                print(f"{label}: {found:,} open challenges in {median:.2f} ms median, "
                      f"{p99:.2f} ms p99")
        finally:
            await store.close()


if __name__ == "__main__":
    asyncio.run(main())
