"""/export of a server with 1,000,000 attempts: time, memory, file size, click impact.

    python bench/export.py [--attempts 1000000]

Fills a database in one transaction (challenge attempts and run attempts of every mode, in
one server), then times the export path in-process (core, store, CSV and gzip writing; the
rows in the store's index order, no sort) and measures the process's RSS before and after.
The longest single unit on the database thread is how long a member's click could wait
behind the export; the time on that thread in all is mostly SQLite building the lines, while
gzip compresses the previous chunk on another.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

GUILD = 42
MEMBERS = 300
PER_CHALLENGE = 50  # attempts per challenge
PER_RUN = 10  # attempts per run
RUN_SHARE = 0.3  # of all attempts
START = 1_735_689_600.0  # 2025-01-01 00:00 UTC
TARGET_S, TARGET_RSS_MB = 10.0, 50.0


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def names() -> list[str]:
    odd = ["=cmd|'/C calc'!A0", "Zoë, \"the\" quiz\nfan", "+plus", "@at", "-minus"]
    return odd + [f"student {i} 🐍" for i in range(MEMBERS - len(odd))]


def fill(conn: sqlite3.Connection, attempts: int, problems: list[tuple[str, str]]) -> None:
    rng = random.Random(7)
    shown = names()
    challenge_attempts = int(attempts * (1 - RUN_SHARE))
    challenges = challenge_attempts // PER_CHALLENGE
    conn.executemany(
        "INSERT INTO challenges (id, guild_id, channel_id, problem_id, pack_id, kind,"
        " difficulty, answer, letters, attempts_allowed, opened_at, deadline, closed_at,"
        " scoring_mode, hint_cost_percent) VALUES (?, ?, 1, ?, ?, 'conceptual',"
        " 'intermediate', 'B', 'ABCD', 2, ?, ?, ?, 'speed', 25)",
        ((c, GUILD, *problems[c % len(problems)], START + c * 600, START + c * 600 + 120,
          START + c * 600 + 120) for c in range(1, challenges + 1)))
    conn.executemany(
        "INSERT INTO attempts (challenge_id, member_id, attempt_no, choice, correct, points,"
        " answered_at, submission_id, display_name) VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?)",
        ((c, 10**17 + m, "ABCD"[m % 4], int(m % 4 == 1), 100 * (m % 4 == 1),
          START + c * 600 + rng.uniform(1, 119), f"c{c}-{m}", shown[m % MEMBERS])
         for c in range(1, challenges + 1) for m in range(PER_CHALLENGE)))
    runs = (attempts - challenges * PER_CHALLENGE) // PER_RUN
    modes = ("practice", "badge_run", "review")
    conn.executemany(
        "INSERT INTO runs (id, guild_id, member_id, mode, problem_ids, started_at, status)"
        " VALUES (?, ?, ?, ?, '', ?, 'finished')",
        ((r, GUILD, 10**17 + r % MEMBERS, modes[r % 3], START + r * 1400)
         for r in range(1, runs + 1)))
    conn.executemany(
        "INSERT INTO run_attempts (run_id, position, problem_id, attempt_no, choice, correct,"
        " points, hint_used, answered_at, elapsed, display_name, submission_id)"
        " VALUES (?, ?, ?, 1, 'C', 1, 10, ?, ?, 30, ?, ?)",
        ((r, p, problems[(r + p) % len(problems)][0], int(p == 3), START + r * 1400 + p * 40,
          shown[r % MEMBERS], f"r{r}-{p}") for r in range(1, runs + 1) for p in range(PER_RUN)))


class UnitTimer:
    """Wraps Database.run so the longest time a unit held the database thread is known."""

    def __init__(self, db) -> None:
        self.longest = 0.0
        self.total = 0.0
        self.units = 0
        original = db.run

        async def timed(fn):
            def held(conn):
                started = time.perf_counter()
                try:
                    return fn(conn)
                finally:
                    held_for = time.perf_counter() - started
                    self.longest = max(self.longest, held_for)
                    self.total += held_for
                    self.units += 1
            return await original(held)
        db.run = timed


async def main(attempts: int) -> None:
    from bot.bank import load_bank
    from bot.core.export import ExportService, ExportTooBig
    from bot.core.periods import Period
    from bot.core.rules import CoreRules
    from bot.store import Store

    bank = load_bank(ROOT / "questions")
    problems = [(p.id, p.pack_id) for p in bank.problems.values()]
    with tempfile.TemporaryDirectory() as folder:
        store = await Store.open(Path(folder) / "export.db", CoreRules.for_bank(bank), "OFF")
        started = time.perf_counter()
        await store.db.transaction(lambda c: fill(c, attempts, problems))
        stored = (await store.db.fetchone("SELECT (SELECT count(*) FROM attempts)"
                                          " + (SELECT count(*) FROM run_attempts)"))[0]
        print(f"filled {stored:,} attempts in {time.perf_counter() - started:.1f} s")
        service = ExportService(store, {p.id: p.pack_id for p in bank.problems.values()},
                                clock=lambda: START + 400 * 86_400)
        timer = UnitTimer(store.db)
        gc.collect()
        before = rss_mb()
        started = time.perf_counter()
        try:
            async with service.exported(GUILD, Period.ALL) as export:
                elapsed = time.perf_counter() - started
                print(f"exported {export.rows:,} rows: {export.filename}, "
                      f"{export.size / 2**20:.2f} MiB")
        except ExportTooBig as exc:
            elapsed = time.perf_counter() - started
            print(f"too big: {exc.rows:,} rows, about {exc.estimated_bytes / 2**20:.1f} MiB")
        growth = rss_mb() - before
        await store.close()
    print(f"export time        {elapsed:6.2f} s    (target <= {TARGET_S:.0f} s)")
    print(f"RSS growth         {growth:6.1f} MB   (target <= {TARGET_RSS_MB:.0f} MB)")
    print(f"longest DB unit    {timer.longest * 1000:6.1f} ms   ({timer.units} units, "
          f"{timer.total:.2f} s on the DB thread in all)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attempts", type=int, default=1_000_000)
    asyncio.run(main(parser.parse_args().attempts))
