"""Background work the bot owns: reveal timers and the batched "N answered" edits.

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


class RevealTimers:
    """One sleeping task per open challenge, calling reveal(challenge_id) at its deadline."""

    def __init__(self, clock: Clock, reveal: Callable[[int], Awaitable[None]]) -> None:
        self.clock = clock
        self.reveal = reveal
        self.group = TaskGroup("reveal")

    def arm(self, challenge_id: int, deadline: float) -> None:
        self.group.start(challenge_id, self._wait_then_reveal(challenge_id, deadline))

    async def _wait_then_reveal(self, challenge_id: int, deadline: float) -> None:
        # Sleep in steps: a long single sleep would not notice a clock that jumped.
        while (remaining := deadline - self.clock()) > 0:  # noqa: ASYNC110 - a deadline
            await asyncio.sleep(min(remaining, 60.0))
        await self.reveal(challenge_id)

    def disarm(self, challenge_id: int) -> None:
        self.group.cancel(challenge_id)

    async def close(self) -> None:
        await self.group.close()


class AnsweredCounter:
    """Edits a post's "N answered" line at most once per interval, however many click."""

    def __init__(self, update: Callable[[int], Awaitable[None]], interval: float = 5.0) -> None:
        self.update = update
        self.interval = interval
        self.group = TaskGroup("answered")
        self.dirty: set[int] = set()

    def touch(self, challenge_id: int) -> None:
        self.dirty.add(challenge_id)
        if challenge_id not in self.group.tasks:
            self.group.start(challenge_id, self._update_while_dirty(challenge_id))

    async def _update_while_dirty(self, challenge_id: int) -> None:
        """Clicks that land during an edit get one more edit, an interval later."""
        while challenge_id in self.dirty:
            await asyncio.sleep(self.interval)
            self.dirty.discard(challenge_id)
            await self.update(challenge_id)

    def forget(self, challenge_id: int) -> None:
        self.dirty.discard(challenge_id)
        self.group.cancel(challenge_id)

    async def close(self) -> None:
        await self.group.close()
