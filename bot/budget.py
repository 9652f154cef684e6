"""The REST budget several bot processes share, in Redis.

Discord allows a bot 50 requests per second whatever number of processes it runs in, so
the paced senders of all processes take their turns from one sliding window: a sorted set
whose members are turns and whose scores are when they started, read on Redis's own clock
(the processes' clocks need not agree). As in one process, a turn counts from the moment it
is granted: until its request starts it holds a place scored a lease ahead (it counts, and a
process that dies holding it frees it when the lease runs out); its start moves it to the
start time, from which it counts one window more. Granting is one script, so it is atomic.

When Redis can't be reached, turns are granted unshared: each process keeps its own pace
(REST_RATE each), and discord.py's own handling of 429 answers covers the rest.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
import uuid
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)
KEY = "tutorbot:rest-budget"
LEASE_S = 30.0  # the longest a granted turn may wait to start and still count as pending
POLL_S = 0.01  # a window full of pending turns is asked again this often
WARN_EVERY_S = 60.0  # an unreachable Redis is logged at most this often
TIMEOUT_S = 1.0

# KEYS[1]: the window; ARGV: rate, window and lease in microseconds, the new turn's name.
# Returns 0 when the turn is granted, else microseconds until one may be.
TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.0f', now - window))
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], string.format('%.0f', now + tonumber(ARGV[3])), ARGV[4])
  redis.call('PEXPIRE', KEYS[1], math.ceil((window + tonumber(ARGV[3])) / 1000))
  return 0
end
local oldest = tonumber(redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2])
if oldest > now then return tonumber(ARGV[5]) end
return math.max(1, oldest + window - now)
"""
# KEYS[1]: the window; ARGV[1]: the turn whose request starts now.
START = """
local t = redis.call('TIME')
redis.call('ZADD', KEYS[1], t[1] .. string.format('%06d', tonumber(t[2])), ARGV[1])
"""
# Scores are microseconds, written out in full: Lua would print them with 14 digits.


def micros(seconds: float) -> int:
    return int(seconds * 1_000_000)


class SharedBudget:
    """At most `rate` request starts in any `window` seconds across every process using
    `key`; the paced sender of each process takes its turns here."""

    def __init__(self, client: Redis, rate: int, window: float, *, key: str = KEY,
                 lease: float = LEASE_S) -> None:
        self.client, self.rate, self.window, self.key, self.lease = client, rate, window, key, lease
        self._take = client.register_script(TAKE)
        self._start = client.register_script(START)
        self._names = (f"{uuid.uuid4().hex[:12]}:{n}" for n in itertools.count())
        self._pending: set[asyncio.Task[Any]] = set()
        self._warned_at = -WARN_EVERY_S

    @classmethod
    def from_url(cls, url: str, rate: int, window: float, **options: Any) -> SharedBudget:
        client = Redis.from_url(url, socket_timeout=TIMEOUT_S,
                                socket_connect_timeout=TIMEOUT_S)
        return cls(client, rate, window, **options)

    async def take(self) -> str | None:
        """Waits for a place in the window; its name, or None when Redis can't be reached
        (the turn is then the process's alone)."""
        name = next(self._names)
        args: list[int | str] = [self.rate, micros(self.window), micros(self.lease), name,
                                 micros(POLL_S)]
        while True:
            try:
                wait = int(await self._take(keys=[self.key], args=args))
            except (RedisError, OSError) as exc:
                self._warn(exc)
                return None
            if wait == 0:
                return name
            await asyncio.sleep(wait / 1_000_000)

    def started(self, name: str) -> None:
        """The turn's request starts: it counts one window from now (in the background:
        until then it counts as pending, which is never less)."""
        self._later(self._start(keys=[self.key], args=[name]))

    def given_back(self, name: str) -> None:
        self._later(self.client.zrem(self.key, name))

    def _later(self, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(self._quietly(work))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _quietly(self, work: Any) -> None:
        try:
            await work
        except (RedisError, OSError) as exc:
            self._warn(exc)

    def _warn(self, exc: Exception) -> None:
        if time.monotonic() - self._warned_at >= WARN_EVERY_S:
            self._warned_at = time.monotonic()
            log.warning("the shared REST budget in Redis is unreachable (%s): pacing this "
                        "process alone", exc)

    async def close(self) -> None:
        """Finishes the updates under way, then closes the connection."""
        await asyncio.gather(*self._pending, return_exceptions=True)
        await self.client.aclose()
