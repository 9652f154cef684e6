"""One paced sender for the bot's own REST calls (posts, edits, role grants).

Discord allows a bot 50 requests per second across all servers. Interaction replies don't
count and never come here; everything else the bot starts by itself does, so a storm of
09:00 schedules in a thousand servers is spread out instead of hitting the limit. Calls a
member is waiting for (their /challenge post, a reveal at its deadline, a badge role) take
the urgent lane and go before scheduled posts.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")

DISCORD_GLOBAL_LIMIT = 50  # requests per second, per bot
DEFAULT_RATE = 40  # our aim: a margin for the calls discord.py makes on its own
WINDOW_S = 1.0


class PacedSender:
    """Starts at most `rate` calls in any `window` seconds, urgent calls first.

    A sliding window over the start times of recent calls: a call starts only when fewer
    than `rate` started in the last `window` seconds. It counts in real time (what Discord
    counts in), never in the bot's clock, which tests move.
    """

    def __init__(self, rate: int = DEFAULT_RATE, window: float = WINDOW_S,
                 clock: Callable[[], float] = time.perf_counter) -> None:
        if rate < 1:
            raise ValueError("rate must be at least 1")
        self.rate, self.window, self.clock = rate, window, clock
        self.started: deque[float] = deque()  # start times within the window
        self.lanes: tuple[deque[asyncio.Future[None]], ...] = (deque(), deque())
        self._dispatcher: asyncio.Task[None] | None = None
        self.sent = 0

    async def run(self, call: Callable[[], Awaitable[T]], *, urgent: bool = False) -> T:
        """Waits for a slot, then awaits call(); its result or error is the caller's."""
        await self.slot(urgent=urgent)
        return await call()

    async def slot(self, *, urgent: bool = False) -> None:
        """Returns when the caller may start one request."""
        if self._free_now() and not any(self.lanes):
            self._take()
            return
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.lanes[0 if urgent else 1].append(turn)
        if self._dispatcher is None or self._dispatcher.done():
            self._dispatcher = asyncio.get_running_loop().create_task(
                self._dispatch(), name="paced-sender")
        await turn

    @property
    def waiting(self) -> int:
        return sum(len(lane) for lane in self.lanes)

    def _free_now(self) -> bool:
        cutoff = self.clock() - self.window
        while self.started and self.started[0] <= cutoff:
            self.started.popleft()
        return len(self.started) < self.rate

    def _take(self) -> None:
        self.started.append(self.clock())
        self.sent += 1

    async def _dispatch(self) -> None:
        """Hands out slots while anyone waits; lives only while there is a queue."""
        while any(self.lanes):
            if not self._free_now():
                await asyncio.sleep(max(0.0, self.started[0] + self.window - self.clock()))
                continue
            turn = (self.lanes[0] or self.lanes[1]).popleft()
            if turn.done():  # its caller gave up waiting
                continue
            self._take()
            turn.set_result(None)

    async def close(self) -> None:
        if self._dispatcher is not None:
            self._dispatcher.cancel()
            await asyncio.gather(self._dispatcher, return_exceptions=True)
        for lane in self.lanes:
            while lane:
                turn = lane.popleft()
                if not turn.done():
                    turn.cancel()
