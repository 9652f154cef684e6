"""The weekly results query on a busy server: a year of history in a shared database.

    python bench/weekly.py [--attempts 100000] [--other-attempts 900000] [--no-index]

Fills a database through the real schema with `--attempts` attempts of one server spread over
a year (and `--other-attempts` of other servers), then times WeeklyService.report for the
last week through the store's connection thread, as the weekly post calls it. --no-index
drops the index of migration 0006 first, to show what it buys.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.core.rules import CoreRules  # noqa: E402
from bot.core.weekly import WeeklyService  # noqa: E402
from bot.store import Store  # noqa: E402
from tests.factories import bank as make_bank  # noqa: E402

GUILD = 1
OTHER_GUILDS = 50
DAY = 86_400.0
START = 1_767_225_600.0  # 2026-01-01 UTC: a year of play follows
END = START + 365 * DAY
PER_CHALLENGE = 25


async def create_schema(path: Path) -> None:
    store = await Store.open(path, CoreRules.for_bank(make_bank()))
    await store.close()


def fill(path: Path, attempts: int, other_attempts: int) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("BEGIN")
    rng = random.Random(1)
    plan = [GUILD] * (attempts // PER_CHALLENGE)
    plan += [2 + n % OTHER_GUILDS for n in range(other_attempts // PER_CHALLENGE)]
    rng.shuffle(plan)  # servers' challenges interleave in time, as they do live
    for c, guild in enumerate(plan, start=1):
        opened = START + (c - 1) * (365 * DAY / len(plan))
        conn.execute(
            "INSERT INTO challenges (id, guild_id, channel_id, message_id, problem_id, pack_id,"
            " kind, difficulty, answer, letters, attempts_allowed, opened_at, deadline,"
            " closed_at, scoring_mode, hint_cost_percent) VALUES (?, ?, 1, ?, ?, 'pack',"
            " 'conceptual', 'intermediate', 'B', 'ABCD', 2, ?, ?, ?, 'speed', 25)",
            (c, guild, c, f"pack-{c % 5}", opened, opened + 120, opened + 120))
        conn.executemany(
            "INSERT INTO attempts VALUES (?, ?, 1, ?, ?, ?, ?, ?)",
            ((c, m, "B" if m % 3 else "A", int(m % 3 != 0), (m % 3 != 0) * (50 + m % 101),
              opened + 10, f"{c}:{m}") for m in rng.sample(range(500), PER_CHALLENGE)))
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.close()


async def time_reports(path: Path, repeats: int, drop_index: bool) -> list[float]:
    store = await Store.open(path, CoreRules.for_bank(make_bank()))
    if drop_index:
        await store.db.execute("DROP INDEX challenges_by_guild_deadline")
    service = WeeklyService(store)
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        report = await service.report(GUILD, END, "Europe/Berlin")
        samples.append(time.perf_counter() - started)
    print(f"  last week: {report.challenges} challenges, {report.members} members")
    await store.close()
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attempts", type=int, default=100_000)
    parser.add_argument("--other-attempts", type=int, default=900_000)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--no-index", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=Path.cwd()) as tmp:
        path = Path(tmp) / "weekly.db"
        asyncio.run(create_schema(path))
        fill(path, args.attempts, args.other_attempts)
        ms = [s * 1000 for s in asyncio.run(time_reports(path, args.repeats, args.no_index))]
    print(f"weekly report, {args.attempts:,} attempts of the server among "
          f"{args.attempts + args.other_attempts:,}: median {statistics.median(ms):.1f} ms, "
          f"max {max(ms):.1f} ms")


if __name__ == "__main__":
    main()
