"""What the bot and the workers agree on: the Redis stream, the task and the deadline rule."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from taskiq.kicker import AsyncKicker
from taskiq_redis import RedisStreamBroker

TASK_NAME = "tutorbot.explain"
STREAM = "tutorbot:explain"
GROUP = "tutorbot-workers"
DEADLINE_MARGIN_S = 30.0  # a worker's start-up and the result's write, beyond two run limits
STREAM_MAXLEN = 10_000  # old messages are trimmed; every one of them is long finished


def rekick_after(timeout_s: float, margin_s: float | None = None) -> float:
    """How long a job may go unfinished before the bot re-kicks it: twice the run limit, so a
    slow start or a long run is not mistaken for a dead worker, plus a margin: 30 s, or the
    run limit itself where that is shorter (short limits are for short jobs)."""
    margin = min(DEADLINE_MARGIN_S, timeout_s) if margin_s is None else margin_s
    return 2 * timeout_s + margin


def make_broker(redis_url: str, timeout_s: float, *, stream: str = STREAM,
                margin_s: float | None = None) -> RedisStreamBroker:
    """The stream broker both sides use.

    xread_count=1: a worker takes one message at a time, so one that joins late still finds
    work (with the default 100, the first worker takes the whole backlog). idle_timeout: a
    message unacknowledged that long is taken over by another worker's reclaim pass; past
    the longest run, so a running job is never taken from a live worker. consumer_id "0":
    a group created after jobs were enqueued still delivers them.
    """
    return RedisStreamBroker(
        redis_url, queue_name=stream, consumer_group_name=GROUP, consumer_id="0",
        xread_count=1, idle_timeout=int(rekick_after(timeout_s, margin_s) * 1000),
        maxlen=STREAM_MAXLEN)


@dataclass(frozen=True)
class JobMessage:
    """What a worker needs beyond the job row: the code the bot keyed the result on, so a
    worker with other code refuses instead of caching a wrong result, and the size."""

    cache_key: str
    problem_id: str
    fingerprint: str
    size: str  # test, cpu, full, or auto (the worker decides by its device)
    attempt: int


async def send(broker: RedisStreamBroker, message: JobMessage) -> None:
    await AsyncKicker(TASK_NAME, broker, {}).kiq(**asdict(message))
