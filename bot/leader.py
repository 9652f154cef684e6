"""Which process runs the study rhythm: the schedule leader.

On SQLite there is one process, and it always leads. On PostgreSQL every process contends
for the leader lock every few seconds; the one holding it runs the rhythm, and stops running
it as soon as it finds its lock connection gone. A hand-over never posts a run twice: every
run is claimed in the database before it is posted (the `job_fires` table).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

log = logging.getLogger(__name__)
RETRY_S = 5.0  # how often a follower tries the lock, and a leader checks it still holds it

Step = Callable[[], Awaitable[None]]


class Lock(Protocol):
    async def try_acquire(self) -> bool: ...

    async def alive(self) -> bool: ...

    async def close(self) -> None: ...


class Leadership:
    """Calls `lead()` when this process becomes the leader and `follow()` when it stops.

    With no lock (one process) it leads from start() to close(), and a `lead()` that fails
    fails start(). With a lock, a `lead()` that fails is undone with `follow()` and the lock
    is let go, so another process may do better.
    """

    def __init__(self, lock: Lock | None, *, lead: Step, follow: Step,
                 retry_s: float = RETRY_S) -> None:
        self.lock, self.lead, self.follow, self.retry_s = lock, lead, follow, retry_s
        self.leading = False
        self._contest: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self.lock is None:
            await self._take_over()
            return
        self._contest = asyncio.get_running_loop().create_task(self._contend(),
                                                               name="leadership")

    async def _contend(self) -> None:
        assert self.lock is not None
        told = False
        while True:
            if self.leading:
                if not await self.lock.alive():
                    log.warning("lost the schedule leader lock: no longer running schedules")
                    await self._step_down()
            elif await self.lock.try_acquire():
                await self._take_over()
            elif not told:
                log.info("another process is the schedule leader; this one takes over if it "
                         "goes (tried every %.0f s)", self.retry_s)
                told = True
            await asyncio.sleep(self.retry_s)

    async def _take_over(self) -> None:
        self.leading = True
        log.info("this process is the schedule leader: it runs schedules and weekly posts")
        try:
            await self.lead()
        except Exception:
            if self.lock is None:  # the only process: its start fails, as it always did
                self.leading = False
                raise
            log.exception("starting the schedules failed; letting the leader lock go")
            await self._step_down()
            await self.lock.close()

    async def _step_down(self) -> None:
        self.leading = False
        try:
            await self.follow()
        except Exception:
            log.exception("stopping the schedules failed")

    async def close(self) -> None:
        if self._contest is not None:
            self._contest.cancel()
            await asyncio.gather(self._contest, return_exceptions=True)
        if self.leading:
            await self._step_down()
        if self.lock is not None:
            await self.lock.close()
