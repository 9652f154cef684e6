"""One paced sender for the bot's own REST calls (posts, edits, role grants).

Discord allows a bot 50 requests per second across all servers. Interaction replies don't
count and never come here; everything else the bot starts by itself does, so a storm of
09:00 schedules in a thousand servers is spread out instead of hitting the limit. Calls a
member is waiting for (their /challenge post, a reveal at its deadline, a badge role) take
the urgent lane and go before scheduled posts.

Discord counts the 50 across every process of the bot. With several processes (REDIS_URL
set) each one's turns also come from a budget they share in Redis (bot/budget.py); the
urgent lane still goes first within each process.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from bot.budget import SharedBudget

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

    __slots__ = ("sender", "spent", "token")

    def __init__(self, sender: PacedSender, token: str | None = None) -> None:
        self.sender = sender
        self.spent = False
        self.token = token  # its place in the shared budget, if there is one

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
        self.sender._shared(self.token, started=True)

    def release(self) -> None:
        """Gives the turn back unused; harmless after the request started."""
        if not self.spent:
            self.spent = True
            self.sender._give_back()
            self.sender._shared(self.token, started=False)


class PacedSender:
    """Starts at most `rate` calls in any `window` seconds, urgent calls first.

    A sliding window over the start times of recent calls, plus the turns granted whose
    requests have not started yet: a turn is granted only while those together are fewer
    than `rate`, and its start time is taken when its request starts. It counts in real time
    (what Discord counts in), never in the bot's clock, which tests move. With a shared
    `budget`, a turn also needs a place in it, which the budget counts the same way.
    """

    def __init__(self, rate: int = DEFAULT_RATE, window: float = WINDOW_S,
                 clock: Callable[[], float] = time.perf_counter,
                 margin: float = MARGIN_S, budget: SharedBudget | None = None) -> None:
        if rate < 1:
            raise ValueError("rate must be at least 1")
        self.rate, self.clock, self.budget = rate, clock, budget
        self.window = window + margin  # how long a start counts
        self.started: deque[float] = deque()  # start times within the window
        self.reserved = 0  # turns granted whose requests have not started
        self.lanes: tuple[deque[asyncio.Future[str | None]], ...] = (deque(), deque())
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
        if self.budget is None and self._free_now() and not any(self.lanes):
            self.reserved += 1
            return Reservation(self)
        turn: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        self.lanes[0 if urgent else 1].append(turn)
        if self._dispatcher is None or self._dispatcher.done():
            self._dispatcher = asyncio.get_running_loop().create_task(
                self._dispatch(), name="paced-sender")
        try:
            token = await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():  # granted, and its caller gave up
                self._give_back()
                self._shared(turn.result(), started=False)
            raise
        return Reservation(self, token)

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

    def _shared(self, token: str | None, *, started: bool) -> None:
        """Tells the shared budget that a turn's request started, or that it is unused."""
        if self.budget is None or token is None:
            return
        if started:
            self.budget.started(token)
        else:
            self.budget.given_back(token)

    async def _dispatch(self) -> None:
        """Grants turns while anyone waits; lives only while there is a queue. With a shared
        budget, a place in it is taken first, then handed to the first live turn."""
        token: str | None = None
        shared = False  # a place in the shared budget, not yet handed on
        try:
            while any(self.lanes):
                if not self._free_now():
                    await self._until_something_frees()
                    continue
                if self.budget is not None and not shared:
                    token, shared = await self.budget.take(), True
                    continue  # the lanes may have changed while it waited
                turn = (self.lanes[0] or self.lanes[1]).popleft()
                if turn.done():  # its caller gave up waiting
                    continue
                self.reserved += 1
                turn.set_result(token)
                token, shared = None, False
        finally:
            self._shared(token, started=False)  # a place nobody is left to use

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
