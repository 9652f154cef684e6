"""The paced sender: never more than its rate in any window, urgent calls first, and members'
interaction replies never behind it."""

from __future__ import annotations

import asyncio
import random
import time

from bot.pacing import PacedSender
from tests.bot.helpers import answer_id, key_of


class RecordingSender(PacedSender):
    """Keeps the clock reading of every start it hands out."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.starts: list[float] = []

    def _start_reserved(self) -> None:
        super()._start_reserved()
        self.starts.append(self.started[-1])


def most_in_any_window(starts: list[float], window: float) -> int:
    ordered = sorted(starts)
    return max(sum(1 for t in ordered[i:] if t < start + window)
               for i, start in enumerate(ordered))


async def test_never_more_than_the_rate_in_any_window():
    sender = RecordingSender(rate=10, window=0.2)

    async def call(i: int) -> int:
        return i

    results = await asyncio.gather(*(sender.run(lambda i=i: call(i), urgent=i % 3 == 0)
                                     for i in range(45)))
    assert results == list(range(45))  # every caller gets its own call's result
    assert len(sender.starts) == 45
    assert most_in_any_window(sender.starts, 0.2) <= 10
    assert sender.starts[-1] - sender.starts[0] >= 0.8  # 45 at 10 per 0.2 s: four full waits
    await sender.close()


async def test_a_reserved_turn_holds_its_place_until_its_request_starts():
    sender = RecordingSender(rate=2, window=0.05)
    first, second = await sender.reserve(), await sender.reserve()
    waiting = asyncio.create_task(sender.slot())
    await asyncio.sleep(0.2)  # four windows pass, and nothing has started: still full
    assert not waiting.done()
    first.start()
    second.release()  # given back unused: the waiting caller goes at once
    await asyncio.wait_for(waiting, 1.0)
    assert len(sender.starts) == 2 and sender.reserved == 0
    await sender.close()


async def test_callers_that_start_late_still_start_within_the_rate():
    """A scheduled post reserves its turn, then opens its challenge in the database before
    sending: what counts is when each request starts, and those never exceed the rate in any
    window, however long the work in between takes."""
    sender = PacedSender(rate=5, window=0.05)
    rng = random.Random(3)
    request_starts: list[float] = []

    async def request() -> None:
        request_starts.append(time.perf_counter())

    async def post() -> None:
        reservation = await sender.reserve()
        await asyncio.sleep(rng.choice([0, 0, 0.01, 0.04, 0.08]))  # the work in between
        await reservation.run(request)

    await asyncio.gather(*(post() for _ in range(60)))
    assert len(request_starts) == 60
    assert most_in_any_window(request_starts, 0.05) <= 5
    assert sender.reserved == 0
    await sender.close()


async def test_urgent_calls_go_before_waiting_bulk_calls():
    sender = PacedSender(rate=2, window=0.1)
    order: list[str] = []

    async def note(name: str) -> None:
        order.append(name)

    bulk = [asyncio.create_task(sender.run(lambda n=f"bulk{i}": note(n))) for i in range(6)]
    await asyncio.sleep(0)  # the bulk calls queue (two start at once, the rest wait)
    urgent = asyncio.create_task(sender.run(lambda: note("urgent"), urgent=True))
    await asyncio.gather(*bulk, urgent)
    assert order.index("urgent") == 2  # right after the two that had already started
    await sender.close()


async def test_a_caller_that_gives_up_frees_its_turn():
    sender = PacedSender(rate=1, window=0.1)
    await sender.slot()
    waiting = asyncio.create_task(sender.slot())
    await asyncio.sleep(0)
    waiting.cancel()
    await asyncio.gather(waiting, return_exceptions=True)
    await asyncio.wait_for(sender.slot(), 1.0)  # not stuck behind the cancelled turn
    await sender.close()


async def test_interaction_replies_never_wait_behind_the_sender(env, room):
    await room.admin.slash(room.channel, "challenge")
    post = room.post()
    key = await key_of(env, post)
    pacer = env.bot.tutor.pacer
    pacer.rate = 1  # one bot-initiated request per second, and a long queue of them
    queued = [asyncio.create_task(pacer.slot()) for _ in range(50)]
    await asyncio.sleep(0)
    reply = await room.members[0].click(post, custom_id=answer_id(post, key))
    assert "Correct" in reply.response.content
    assert pacer.waiting >= 45  # the click was answered while the queue still stood
    for task in queued:
        task.cancel()
    await asyncio.gather(*queued, return_exceptions=True)
    pacer.rate = 40
