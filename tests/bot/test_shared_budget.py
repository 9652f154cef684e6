"""What bot processes share in Redis: the REST budget (two paced senders, as two processes
would have, never start more than the rate together in any window) and turns to IDENTIFY.
Real Redis."""

from __future__ import annotations

import asyncio
import random
import time
from itertools import pairwise

from bot.budget import SharedBudget
from bot.identify import IdentifyGate
from bot.pacing import PacedSender
from tests.bot.test_pacing import most_in_any_window

RATE, WINDOW = 5, 0.1


def process_sender(redis_url: str) -> PacedSender:
    """What one bot process builds: its own Redis client, its own paced sender."""
    budget = SharedBudget.from_url(redis_url, RATE, WINDOW, key="test:budget")
    return PacedSender(rate=RATE, window=WINDOW, budget=budget)


async def close(sender: PacedSender) -> None:
    await sender.close()
    assert sender.budget is not None
    await sender.budget.close()


async def test_two_processes_never_start_more_than_the_rate_together(redis_url):
    senders = [process_sender(redis_url), process_sender(redis_url)]
    rng = random.Random(5)
    starts: list[float] = []

    async def request() -> None:
        starts.append(time.perf_counter())

    async def post(sender: PacedSender, i: int) -> None:
        if i % 2:  # half are plain calls, half reserve first and do some work before
            await sender.run(request, urgent=i % 3 == 0)
            return
        reservation = await sender.reserve()
        await asyncio.sleep(rng.choice([0, 0.01, 0.05, 0.12]))
        await reservation.run(request)

    await asyncio.gather(*(post(s, i) for s in senders for i in range(20)))
    assert len(starts) == 40
    assert most_in_any_window(starts, WINDOW) <= RATE  # alone, each would allow RATE
    assert all(s.sent == 20 for s in senders)
    for sender in senders:
        await close(sender)


async def test_turns_given_back_unused_free_their_place_at_once(redis_url):
    first, second = process_sender(redis_url), process_sender(redis_url)
    held = [await first.reserve() for _ in range(RATE)]  # the whole shared window
    waiting = asyncio.create_task(second.slot())
    await asyncio.sleep(0.3)  # windows pass: turns not started still hold their places
    assert not waiting.done()
    for reservation in held:
        reservation.release()
    await asyncio.wait_for(waiting, 1.0)
    await close(first)
    await close(second)


async def test_an_unreachable_redis_leaves_each_process_its_own_pace(caplog):
    budget = SharedBudget.from_url("redis://127.0.0.1:1/0", RATE, WINDOW)
    sender = PacedSender(rate=RATE, window=WINDOW, budget=budget)
    started = []
    await asyncio.wait_for(asyncio.gather(*(sender.run(lambda: asyncio.sleep(0, started.append(1)))
                                            for _ in range(RATE))), 5.0)
    assert len(started) == RATE
    assert "shared REST budget in Redis is unreachable" in caplog.text
    await close(sender)


async def test_processes_take_turns_to_identify(redis_url):
    gates = [IdentifyGate.from_url(redis_url, spacing=0.2, key="test:identify")
             for _ in range(3)]
    turns: list[float] = []

    async def identify(gate: IdentifyGate) -> None:
        assert await gate.wait_turn()
        turns.append(time.perf_counter())

    await asyncio.gather(*(identify(g) for g in gates))
    turns.sort()
    assert all(later - earlier >= 0.19 for earlier, later in pairwise(turns))
    for gate in gates:
        await gate.close()
