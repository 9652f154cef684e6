"""Many members answering at once through the real store."""

import asyncio
import random
from datetime import UTC, datetime

from bot.core.errors import ChallengeError
from tests.store.conftest import GUILD


async def click(service, ch, member, choice, at, sid):
    try:
        return await service.answer(ch.id, member, choice, at, sid)
    except ChallengeError as exc:
        return exc


async def test_200_members_clicking_twice_at_once_keep_every_invariant(
        service, open_challenge, read_elsewhere):
    ch = await open_challenge()  # two attempts each
    rng = random.Random(7)
    clicks = [(m, rng.choice("ABCD"), ch.opened_at + rng.uniform(0, 60), f"{m}-{n}")
              for m in range(200) for n in range(2)]
    rng.shuffle(clicks)
    outcomes = await asyncio.gather(*(click(service, ch, *c) for c in clicks))

    told: dict[int, int] = {}
    for (member, *_), outcome in zip(clicks, outcomes, strict=True):
        if not isinstance(outcome, Exception):
            told[member] = told.get(member, 0) + outcome.verdict.points
    per_member = await read_elsewhere(
        "SELECT member_id, count(*), sum(correct), sum(points) FROM attempts GROUP BY member_id")
    totals = dict(await read_elsewhere("SELECT member_id, points FROM members"
                                       " WHERE guild_id = ?", (GUILD,)))
    assert len(per_member) == 200
    for member, attempts, correct, points in per_member:
        assert attempts <= 2 and correct <= 1
        assert points == totals[member] == told.get(member, 0)


async def test_answers_arriving_together_keep_every_total_equal_to_the_attempts(
        service, open_challenge, store):
    """Batches of clicks (one transaction each, one set-based write on PostgreSQL) over
    several days and both packs: every maintained total still equals a count over the
    stored attempts."""
    rng = random.Random(5)
    start = 1_767_225_600.0  # 2026-01-01 UTC
    for day in range(4):
        challenges = [await open_challenge(p, now=start + day * 86_400.0)
                      for p in rng.sample(["pack-0", "pack-1", "pack-2", "other-0"], 3)]
        clicks = [(ch, member, rng.choice("ABCD"), ch.opened_at + rng.uniform(0, 100),
                   f"{day}-{ch.id}-{member}-{n}")
                  for ch in challenges for member in rng.sample(range(40), 25) for n in range(2)]
        rng.shuffle(clicks)
        await asyncio.gather(*(click(service, *c) for c in clicks))

    fetch = store.db.fetchall
    attempts = await fetch("SELECT a.member_id, a.correct, a.points, a.answered_at, c.pack_id"
                           " FROM attempts a JOIN challenges c ON c.id = a.challenge_id")
    points: dict[tuple[str, str, int], int] = {}
    for member, correct, got, at, pack in attempts:
        if correct and got > 0:
            for period in ("all", _day(at)):
                for scope in ("*", pack):
                    key = (scope, period, member)
                    points[key] = points.get(key, 0) + got
    stored = {(s, p, m): n for s, p, m, n in await fetch(
        "SELECT scope, period, member_id, points FROM member_points WHERE guild_id = ?"
        " AND (period = 'all' OR period LIKE 'd%')", (GUILD,))}
    assert stored == points
    counted = {(s, p): n for s, p, n in await fetch(
        "SELECT scope, period, members FROM period_members WHERE guild_id = ?"
        " AND (period = 'all' OR period LIKE 'd%')", (GUILD,))}
    assert counted == {k: sum(1 for s, p, _ in points if (s, p) == k)
                       for k in {(s, p) for s, p, _ in points}}
    members = {m: (p, c, a) for m, p, c, a in await fetch(
        "SELECT member_id, points, correct, attempts FROM members WHERE guild_id = ?", (GUILD,))}
    for member, (total, correct, tries) in members.items():
        mine = [a for a in attempts if a[0] == member]
        assert (total, correct, tries) == (sum(a[2] for a in mine), sum(a[1] for a in mine),
                                           len(mine))


def _day(at: float) -> str:
    return datetime.fromtimestamp(at, tz=UTC).strftime("d%Y-%m-%d")
