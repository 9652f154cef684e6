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
# A request reaches discord.py's HTTP client a moment after its turn starts, and a garbage
# collection can fall in between: each start is held this much longer than the window, so
# what goes out on the wire stays within the rate too.
MARGIN_S = 0.05
RESERVED_POLL_S = 0.01  # how often a window full of unstarted reservations is looked at


class Reservation:
    """A granted turn to start one request. It holds its place in the window until the
    request starts (`run`) or the holder lets it go (`release`), so that a caller who resumes
    late, or does some work first, never starts more than the rate in any window."""

    __slots__ = ("sender", "spent")

    def __init__(self, sender: PacedSender) -> None:
        self.sender = sender
        self.spent = False

    async def run(self, call: Callable[[], Awaitable[T]]) -> T:
        """Starts call() now; its result or error is the caller's."""
        self.start()
        return await call()

    def start(self) -> None:
        """For a caller that makes the request itself, right after this."""
        if self.spent:
            raise RuntimeError("a reservation starts one request")
        self.spent = True
        self.sender._start_reserved()

    def release(self) -> None:
        """Gives the turn back unused; harmless after the request started."""
        if not self.spent:
            self.spent = True
            self.sender._give_back()


class PacedSender:
    """Starts at most `rate` calls in any `window` seconds, urgent calls first.

    A sliding window over the start times of recent calls, plus the turns granted whose
    requests have not started yet: a turn is granted only while those together are fewer
    than `rate`, and its start time is taken when its request starts. It counts in real time
    (what Discord counts in), never in the bot's clock, which tests move.
    """

    def __init__(self, rate: int = DEFAULT_RATE, window: float = WINDOW_S,
                 clock: Callable[[], float] = time.perf_counter,
                 margin: float = MARGIN_S) -> None:
        if rate < 1:
            raise ValueError("rate must be at least 1")
        self.rate, self.clock = rate, clock
        self.window = window + margin  # how long a start counts
        self.started: deque[float] = deque()  # start times within the window
        self.reserved = 0  # turns granted whose requests have not started
        self.lanes: tuple[deque[asyncio.Future[None]], ...] = (deque(), deque())
        self._dispatcher: asyncio.Task[None] | None = None
        self.sent = 0

    async def run(self, call: Callable[[], Awaitable[T]], *, urgent: bool = False) -> T:
        """Waits for a turn, then awaits call(); its result or error is the caller's."""
        reservation = await self.reserve(urgent=urgent)
        return await reservation.run(call)

    async def slot(self, *, urgent: bool = False) -> None:
        """Returns when the caller may start one request, which it must start right away."""
        (await self.reserve(urgent=urgent)).start()

    async def reserve(self, *, urgent: bool = False) -> Reservation:
        """Waits for a turn; the caller starts its request with the reservation, or
        releases it."""
        if self._free_now() and not any(self.lanes):
            self.reserved += 1
            return Reservation(self)
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.lanes[0 if urgent else 1].append(turn)
        if self._dispatcher is None or self._dispatcher.done():
            self._dispatcher = asyncio.get_running_loop().create_task(
                self._dispatch(), name="paced-sender")
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():  # granted, and its caller gave up
                self._give_back()
            raise
        return Reservation(self)

    @property
    def waiting(self) -> int:
        return sum(len(lane) for lane in self.lanes)

    def _free_now(self) -> bool:
        cutoff = self.clock() - self.window
        while self.started and self.started[0] <= cutoff:
            self.started.popleft()
        return len(self.started) + self.reserved < self.rate

    def _start_reserved(self) -> None:
        self.reserved -= 1
        self.started.append(self.clock())
        self.sent += 1

    def _give_back(self) -> None:
        self.reserved -= 1

    async def _dispatch(self) -> None:
        """Grants turns while anyone waits; lives only while there is a queue."""
        while any(self.lanes):
            if not self._free_now():
                await self._until_something_frees()
                continue
            turn = (self.lanes[0] or self.lanes[1]).popleft()
            if turn.done():  # its caller gave up waiting
                continue
            self.reserved += 1
            turn.set_result(None)

    async def _until_something_frees(self) -> None:
        """Until the oldest start leaves the window; while the window holds reservations
        alone, a short poll for them to start or be given back. Plain sleeps: simulated
        clocks (simcord in tests and the demo) know how to move them."""
        if self.started:
            await asyncio.sleep(max(0.0, self.started[0] + self.window - self.clock()))
        else:
            await asyncio.sleep(RESERVED_POLL_S)

    async def close(self) -> None:
        if self._dispatcher is not None:
            self._dispatcher.cancel()
            await asyncio.gather(self._dispatcher, return_exceptions=True)
        for lane in self.lanes:
            while lane:
                turn = lane.popleft()
                if not turn.done():
                    turn.cancel()
