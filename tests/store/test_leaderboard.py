"""The maintained leaderboard equals a brute-force count over the attempts."""

import asyncio
import contextlib
import random
from collections import Counter

import pytest

from bot.core.errors import ChallengeError
from bot.core.periods import Period, period_key
from bot.store import ALL_PACKS
from tests.store.conftest import GUILD

DAY = 86_400.0


async def brute_force(store, period: Period, now: float, pack: str | None) -> Counter:
    totals: Counter = Counter()
    rows = await store.db.fetchall(
        "SELECT a.member_id, a.points, a.answered_at, c.pack_id FROM attempts a"
        " JOIN challenges c ON c.id = a.challenge_id WHERE c.guild_id = ? AND a.correct = 1",
        (GUILD,))
    for member, points, at, pack_id in rows:
        if period_key(period, at) == period_key(period, now) and pack in (None, pack_id):
            totals[member] += points
    return Counter({m: p for m, p in totals.items() if p > 0})


@pytest.fixture
async def played(service, open_challenge, bank):
    """40 challenges over 70 days, two packs' worth of problems, 30 members. Each round of
    a challenge's clicks arrives together, as on a busy post (and commits as one batch)."""
    rng = random.Random(3)
    start = 1_767_225_600.0  # 2026-01-01 UTC

    async def click(ch, member, attempt, choice, at):
        with contextlib.suppress(ChallengeError):
            await service.answer(ch.id, member, choice, at, f"{ch.id}-{member}-{attempt}")

    for n in range(40):
        problem = rng.choice(list(bank.problems.values()))
        ch = await open_challenge(problem.id, now=start + n * 1.75 * DAY)
        members = rng.sample(range(30), 12)
        for attempt in range(2):
            await asyncio.gather(*(
                click(ch, member, attempt, rng.choice("ABCD"),
                      ch.opened_at + rng.uniform(0, 100) + attempt) for member in members))
    return start + 39 * 1.75 * DAY + 50


async def test_leaderboard_matches_brute_force_in_every_period(store, played):
    now = played  # one history for every period: playing it is most of the test's time
    for period in Period:
        expected = await brute_force(store, period, now, None)
        board = await store.leaderboard.page(GUILD, period_key(period, now), limit=100)
        assert {r.member_id: r.points for r in board.rows} == dict(expected), period
        assert board.total_members == len(expected), period
        for row in board.rows:
            assert row.rank == 1 + sum(1 for p in expected.values() if p > row.points)


async def test_my_rank_is_shown_even_outside_the_top(store, played):
    expected = await brute_force(store, Period.ALL, played, None)
    last = min(expected, key=lambda m: (expected[m], -m))
    board = await store.leaderboard.page(GUILD, "all", limit=3, member_id=last)
    assert board.me is not None and board.me.points == expected[last]
    assert board.me.rank == 1 + sum(1 for p in expected.values() if p > expected[last])


async def test_pack_scope_counts_only_that_pack(store, played):
    expected = await brute_force(store, Period.ALL, played, "pack")
    board = await store.leaderboard.page(GUILD, "all", scope="pack", limit=100)
    assert {r.member_id: r.points for r in board.rows} == dict(expected)
    assert ALL_PACKS == "*"
