"""Leaderboard latency on a big server: 100,000 members and 10 million attempts.

    python bench/leaderboard.py [--members 100000] [--attempts 10000000]

Fills a database through the real schema (attempts, then the maintained per-period totals
computed from them), then times the store's leaderboard call (top 10 plus one member's
rank) for each period, through the store's connection thread as the bot calls it.
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

from bot.core.periods import Period, period_key  # noqa: E402
from bot.core.rules import CoreRules  # noqa: E402
from bot.store import Store  # noqa: E402
from tests.factories import bank as make_bank  # noqa: E402

GUILD = 1
DAY = 86_400.0
START = 1_767_225_600.0  # 2026-01-01 UTC: 60 days of play follow
NOW = START + 60 * DAY - 60  # the last minute of the 60th day


async def create_schema(path: Path) -> None:
    store = await Store.open(path, CoreRules.for_bank(make_bank()))
    await store.close()


def fill(path: Path, members: int, attempts: int, challenges: int) -> float:
    started = time.perf_counter()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("BEGIN")
    rng = random.Random(1)
    per_challenge = attempts // challenges
    for c in range(1, challenges + 1):
        opened = START + (c - 1) * (60 * DAY / challenges)
        conn.execute(
            "INSERT INTO challenges (id, guild_id, channel_id, problem_id, pack_id, kind,"
            " difficulty, answer, letters, attempts_allowed, opened_at, deadline, closed_at,"
            " scoring_mode, hint_cost_percent) VALUES (?, ?, 1, 'p', 'pack', 'conceptual',"
            " 'intermediate', 'B', 'ABCD', 2, ?, ?, ?, 'speed', 25)",
            (c, GUILD, opened, opened + 120, opened + 120))
        who = rng.sample(range(members), per_challenge)
        conn.executemany(
            "INSERT INTO attempts VALUES (?, ?, 1, ?, ?, ?, ?, ?)",
            ((c, m, "B" if m % 3 else "A", int(m % 3 != 0), (m % 3 != 0) * (50 + m % 101),
              opened + 10, f"{c}:{m}") for m in who))
    conn.execute("COMMIT")
    build_totals(conn)
    conn.close()
    return time.perf_counter() - started


def build_totals(conn: sqlite3.Connection) -> None:
    """The totals the answer path maintains, computed here in bulk from the attempts."""
    conn.create_function("period_key", 2, lambda p, t: period_key(Period(p), t),
                         deterministic=True)
    conn.execute("BEGIN")
    for period in Period:
        conn.execute(
            "INSERT INTO member_points (guild_id, scope, period, member_id, points)"
            " SELECT ?, '*', period_key(?, c.opened_at), a.member_id, sum(a.points)"
            " FROM attempts a JOIN challenges c ON c.id = a.challenge_id WHERE a.correct = 1"
            " GROUP BY 3, a.member_id", (GUILD, period.value))
    conn.execute("COMMIT")
    conn.execute("ANALYZE")


async def time_leaderboards(path: Path, members: int, repeats: int) -> dict[Period, list[float]]:
    store = await Store.open(path, CoreRules.for_bank(make_bank()))
    rng = random.Random(2)
    timings: dict[Period, list[float]] = {}
    for period in Period:
        key = period_key(period, NOW)
        samples = []
        for _ in range(repeats):
            member = rng.randrange(members)
            started = time.perf_counter()
            board = await store.leaderboard.page(GUILD, key, member_id=member)
            samples.append(time.perf_counter() - started)
        timings[period] = samples
        print(f"  {period.label:<11} ({key}): {board.total_members:,} members ranked", flush=True)
    await store.close()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--attempts", type=int, default=10_000_000)
    parser.add_argument("--challenges", type=int, default=2_000)
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=Path.cwd()) as tmp:
        path = Path(tmp) / "leaderboard.db"
        asyncio.run(create_schema(path))
        seconds = fill(path, args.members, args.attempts, args.challenges)
        print(f"filled {args.members:,} members, {args.attempts:,} attempts in {seconds:.0f} s")
        timings = asyncio.run(time_leaderboards(path, args.members, args.repeats))
    for period, samples in timings.items():
        ms = [s * 1000 for s in samples]
        p99 = sorted(ms)[int(0.99 * len(ms))]
        print(f"{period.label:<11} top 10 + my rank: median {statistics.median(ms):.2f} ms, "
              f"p99 {p99:.2f} ms (target < 5 ms)")


if __name__ == "__main__":
    main()
