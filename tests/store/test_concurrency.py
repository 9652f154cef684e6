"""Many members answering at once through the real store."""

import asyncio
import random

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
