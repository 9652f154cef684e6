"""/stats pack latency on a server with 1,000,000 attempts (target: 100 ms, median and p99).

    python bench/stats.py [--attempts 1000000] [--members 3000] [--repeats 40]

Fills a database through the real schema in one transaction with executemany: challenges
and their attempts, badge runs and practice runs with theirs (practice is stored but not
counted), over 96 problems in 8 factory packs of 12. The item tallies are filled by the very
function the attempt observer runs on each answer (bot.store.insight.record_attempts), fed the
same facts in the same order. Then times InsightService.pack and .problem (core + store, on
the store's connection thread, as the bot calls them), and the cost the observer adds to one
stored answer. No ANALYZE: the bot never runs one.
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

from bot.core.insight import InsightService  # noqa: E402
from bot.core.rules import CoreRules  # noqa: E402
from bot.store import Store  # noqa: E402
from bot.store.db import in_transaction  # noqa: E402
from bot.store.insight import record_attempts  # noqa: E402
from bot.store.records import AttemptFact  # noqa: E402
from tests.factories import bank as make_bank  # noqa: E402

GUILD = 1
PACKS = tuple(f"pack{i}" for i in range(8))
BANK = make_bank(problems_per_pack=12, packs=PACKS)
MEASURED = PACKS[0]
TARGET_MS = 100.0
START = 1_767_225_600.0
LIMIT = 120.0


class Server:
    """Members of different skill answering problems of different difficulty."""

    def __init__(self, members: int, seed: int = 1) -> None:
        self.rng = random.Random(seed)
        self.skill = [self.rng.uniform(0.25, 0.95) for _ in range(members)]
        self.ease = {pid: self.rng.uniform(0.3, 1.0) for pid in BANK.problems}
        self.problems = sorted(BANK.problems)
        self.members = members
        self.attempts = 0
        self.ids = 0

    def sid(self) -> str:
        self.ids += 1
        return f"s{self.ids}"

    def response(self, member: int, problem_id: str) -> list[tuple[str, bool, float, bool]]:
        """(choice, correct, elapsed, hint shown) per attempt: at most 2, as the factory's."""
        p = self.skill[member] * self.ease[problem_id]
        key = BANK.problems[problem_id].answer
        hint_before = self.rng.choice((None,) * 8 + (0, 1))
        found, elapsed = [], 0.0
        for attempt in range(2):
            elapsed += self.rng.uniform(3, 50)
            right = self.rng.random() < p
            choice = key if right else self.rng.choice([c for c in "ACD" if c != key] or "A")
            found.append((choice, right, elapsed, hint_before is not None
                          and hint_before <= attempt))
            if right:
                break
        return found


def fact(mode: str, member: int, problem_id: str, n: int, attempt: tuple,
         answered_at: float) -> AttemptFact:
    choice, right, elapsed, hinted = attempt
    return AttemptFact(guild_id=GUILD, member_id=member, mode=mode,
                       pack_id=BANK.problems[problem_id].pack_id, problem_id=problem_id,
                       attempt_no=n, choice=choice, correct=right, final=right or n == 2,
                       hint_used=hinted, elapsed=elapsed, time_limit=LIMIT,
                       answered_at=answered_at)


def add_challenge(conn: sqlite3.Connection, server: Server, number: int) -> None:
    problem_id = server.rng.choice(server.problems)
    problem = BANK.problems[problem_id]
    opened = START + number * 600.0
    who = server.rng.sample(range(server.members), server.rng.randint(40, 120))
    rows, hints, facts = [], [], []
    for member in who:
        for n, attempt in enumerate(server.response(member, problem_id), start=1):
            rows.append((number, member, n, attempt[0], int(attempt[1]), 100 * attempt[1],
                         opened + attempt[2], server.sid()))
            facts.append(fact("challenge", member, problem_id, n, attempt, opened + attempt[2]))
            if attempt[3] and (n == 1 or not facts[-2].hint_used):
                hints.append((number, member, opened + attempt[2] - 1))
    conn.execute(
        "INSERT INTO challenges (id, guild_id, channel_id, problem_id, pack_id, kind, difficulty,"
        " answer, letters, attempts_allowed, opened_at, deadline, closed_at, scoring_mode,"
        " hint_cost_percent, answered_count) VALUES (?, ?, 1, ?, ?, ?, ?, ?, 'ABCD', 2, ?, ?, ?,"
        " 'speed', 25, ?)",
        (number, GUILD, problem_id, problem.pack_id, problem.kind, problem.difficulty,
         problem.answer, opened, opened + LIMIT, opened + LIMIT, len(who)))
    conn.executemany("INSERT INTO attempts (challenge_id, member_id, attempt_no, choice,"
                     " correct, points, answered_at, submission_id) VALUES"
                     " (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    conn.executemany("INSERT INTO hints VALUES (?, ?, ?)", hints)
    record_attempts(conn, facts)
    server.attempts += len(rows)


def add_run(conn: sqlite3.Connection, server: Server, mode: str) -> None:
    """A badge run through a whole pack, or a practice of a few problems."""
    member = server.rng.randrange(server.members)
    pack = BANK.packs[server.rng.choice(PACKS)]
    problem_ids = [p.id for p in pack.problems]
    if mode == "practice":
        problem_ids = server.rng.sample(problem_ids, 4)
    started = START + server.rng.uniform(0, 1e7)
    run_id = conn.execute(
        "INSERT INTO runs (guild_id, member_id, mode, pack_id, problem_ids, position,"
        " started_at, ended_at, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'finished')"
        " RETURNING id", (GUILD, member, mode, pack.id, ",".join(problem_ids),
                          len(problem_ids), started, started + 3600)).fetchone()[0]
    rows, facts = [], []
    for position, problem_id in enumerate(problem_ids):
        for n, attempt in enumerate(server.response(member, problem_id), start=1):
            rows.append((run_id, position, problem_id, n, attempt[0], int(attempt[1]),
                         100 * attempt[1], int(attempt[3]), started + attempt[2], attempt[2],
                         server.sid()))
            facts.append(fact(mode, member, problem_id, n, attempt, started + attempt[2]))
    conn.executemany("INSERT INTO run_attempts (run_id, position, problem_id, attempt_no,"
                     " choice, correct, points, hint_used, answered_at, elapsed, submission_id)"
                     " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    record_attempts(conn, facts)
    server.attempts += len(rows)


def fill(path: Path, attempts: int, members: int) -> tuple[float, Server]:
    started = time.perf_counter()
    server = Server(members)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("BEGIN")
    number = 0
    while server.attempts < attempts:
        roll = server.rng.random()
        if roll < 0.93:
            number += 1
            add_challenge(conn, server, number)
        else:
            add_run(conn, server, "badge_run" if roll < 0.98 else "practice")
    conn.execute("COMMIT")
    conn.close()
    return time.perf_counter() - started, server


async def create_schema(path: Path) -> None:
    store = await Store.open(path, CoreRules.for_bank(BANK))
    await store.close()


def summary(samples: list[float]) -> tuple[float, float]:
    ms = sorted(s * 1000 for s in samples)
    return statistics.median(ms), ms[min(len(ms) - 1, int(0.99 * len(ms)))]


async def timed(call, repeats: int) -> list[float]:
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - started)
    return samples


async def measure(path: Path, server: Server, repeats: int) -> None:
    store = await Store.open(path, CoreRules.for_bank(BANK), synchronous="NORMAL")
    try:
        insight = InsightService(store, BANK)
        stats = await insight.pack(GUILD, MEASURED)
        responses = sum(i.responses for i in stats.items)
        print(f"  pack {MEASURED}: {len(stats.items)} problems, {responses:,} responses, "
              f"{stats.flagged} flagged; hardest {stats.items[0].problem.id} "
              f"(right in the end {stats.items[0].end_share:.0%}, discrimination "
              f"{stats.items[0].discrimination:+.2f})")
        pack = summary(await timed(lambda: insight.pack(GUILD, MEASURED), repeats))
        one = summary(await timed(lambda: insight.problem(GUILD, stats.items[0].problem.id),
                                  repeats))
        cost = await store.db.run(lambda c: observer_cost(c, server))
    finally:
        await store.close()
    print(f"/stats pack    (core+store, {repeats} runs): median {pack[0]:.1f} ms, "
          f"p99 {pack[1]:.1f} ms (target <= {TARGET_MS:.0f} ms)")
    print(f"/stats problem (core+store, {repeats} runs): median {one[0]:.1f} ms, "
          f"p99 {one[1]:.1f} ms (target <= {TARGET_MS:.0f} ms)")
    print(f"observer cost per stored answer: {cost:.1f} µs (inside its transaction, "
          "rolled back here)")


def observer_cost(conn: sqlite3.Connection, server: Server, answers: int = 5000) -> float:
    """Mean µs the item-stats observer adds to one answer on this database."""
    facts = []
    for _ in range(answers // 2):
        member, problem_id = server.rng.randrange(server.members), server.rng.choice(
            server.problems)
        for n, attempt in enumerate(server.response(member, problem_id), start=1):
            facts.append(fact("challenge", member, problem_id, n, attempt, START))

    def run(c: sqlite3.Connection) -> float:
        started = time.perf_counter()
        for f in facts:
            record_attempts(c, (f,))  # what ItemStatsRepo.on_attempt does
        spent = time.perf_counter() - started
        raise Rollback(spent)
    try:
        in_transaction(conn, run)
    except Rollback as done:
        return 1e6 * done.args[0] / len(facts)
    raise AssertionError("unreachable")


class Rollback(Exception):
    """Carries a timing out of a transaction that must not stay."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attempts", type=int, default=1_000_000)
    parser.add_argument("--members", type=int, default=3_000)
    parser.add_argument("--repeats", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=Path.cwd()) as tmp:
        path = Path(tmp) / "stats.db"
        asyncio.run(create_schema(path))
        seconds, server = fill(path, args.attempts, args.members)
        print(f"filled {server.attempts:,} attempts by {args.members:,} members over "
              f"{len(BANK.problems)} problems in {seconds:.0f} s")
        asyncio.run(measure(path, server, args.repeats))


if __name__ == "__main__":
    main()
