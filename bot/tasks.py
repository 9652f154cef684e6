"""Background work the bot owns: deadline timers, the batched "N answered" edits, and
periodic rounds.

Each owner starts its tasks, cancels them on close, and logs their failures.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

Clock = Callable[[], float]


class TaskGroup:
    """Named tasks that are cancelled together and whose failures are logged, never lost."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.tasks: dict[object, asyncio.Task[None]] = {}

    def start(self, key: object, work: Awaitable[None]) -> None:
        self.cancel(key)
        task = asyncio.get_running_loop().create_task(self._run(key, work),
                                                      name=f"{self.name}:{key}")
        self.tasks[key] = task

    async def _run(self, key: object, work: Awaitable[None]) -> None:
        try:
            await work
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s task %s failed", self.name, key)
        finally:
            if self.tasks.get(key) is asyncio.current_task():
                del self.tasks[key]

    def cancel(self, key: object) -> None:
        task = self.tasks.pop(key, None)
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    async def close(self) -> None:
        tasks = list(self.tasks.values())
        self.tasks.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


Action = Callable[[], Awaitable[object]]


async def every(interval: float, action: Action) -> None:
    """Runs action() every `interval` seconds until cancelled; a failed round is logged and
    the next one runs as usual (a database hiccup must not end a sweep for good)."""
    while True:
        await asyncio.sleep(interval)
        try:
            await action()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("periodic %s failed; trying again in %.0f s",
                          getattr(action, "__qualname__", action), interval)


class DeadlineTimers:
    """One sleeping task per key, running its action once the clock reaches its deadline.

    Arming a key again replaces its timer: a reveal that failed re-arms itself for later.
    """

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.group = TaskGroup("deadline")

    def arm(self, key: int, deadline: float, action: Action) -> None:
        self.group.start(key, self._wait_then_run(deadline, action))

    async def _wait_then_run(self, deadline: float, action: Action) -> None:
        # Sleep in steps: a long single sleep would not notice a clock that jumped.
        while (remaining := deadline - self.clock()) > 0:  # noqa: ASYNC110 - a deadline
            await asyncio.sleep(min(remaining, 60.0))
        await action()

    def disarm(self, key: int) -> None:
        self.group.cancel(key)

    @property
    def armed(self) -> set[object]:
        return set(self.group.tasks)

    async def close(self) -> None:
        await self.group.close()


class AnsweredCounter:
    """Runs a post's "N answered" edit at most once per interval, however many click."""

    def __init__(self, interval: float = 5.0) -> None:
        self.interval = interval
        self.group = TaskGroup("answered")
        self.dirty: set[int] = set()

    def touch(self, key: int, update: Action) -> None:
        self.dirty.add(key)
        if key not in self.group.tasks:
            self.group.start(key, self._update_while_dirty(key, update))

    async def _update_while_dirty(self, key: int, update: Action) -> None:
        """Clicks that land during an edit get one more edit, an interval later."""
        while key in self.dirty:
            await asyncio.sleep(self.interval)
            self.dirty.discard(key)
            await update()

    def forget(self, key: int) -> None:
        self.dirty.discard(key)
        self.group.cancel(key)

    async def close(self) -> None:
        await self.group.close()
