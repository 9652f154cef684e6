"""One gateway IDENTIFY at a time across every bot process.

Discord lets a bot IDENTIFY once per 5 seconds (per `max_concurrency` bucket, and most bots
have one bucket). discord.py spaces the shards of one process; processes starting together
would still identify at once, and Discord would refuse all but one. So each process takes
its turn from a key in Redis that lives 5 seconds: whoever sets it may identify.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)
KEY = "tutorbot:identify"
SPACING_S = 5.5  # Discord's 5 s, and a margin for the IDENTIFY to reach the gateway
TIMEOUT_S = 1.0


class IdentifyGate:
    def __init__(self, client: Redis, *, spacing: float = SPACING_S, key: str = KEY) -> None:
        self.client, self.spacing, self.key = client, spacing, key

    @classmethod
    def from_url(cls, url: str, **options: Any) -> IdentifyGate:
        client = Redis.from_url(url, socket_timeout=TIMEOUT_S,
                                socket_connect_timeout=TIMEOUT_S)
        return cls(client, **options)

    async def wait_turn(self) -> bool:
        """Returns once this process may IDENTIFY, no other having done so in the last
        `spacing` seconds; False if Redis can't be reached (pace yourself, then)."""
        while True:
            try:
                if await self.client.set(self.key, "1", nx=True, px=int(self.spacing * 1000)):
                    return True
                left_ms = await self.client.pttl(self.key)
            except (RedisError, OSError) as exc:
                log.warning("identify turns in Redis are unreachable (%s): identifying on this "
                            "process's own pace", exc)
                return False
            await asyncio.sleep(max(left_ms, 10) / 1000)

    async def close(self) -> None:
        await self.client.aclose()
