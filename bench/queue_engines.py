"""How TaskIQ brokers share jobs between workers and redeliver a lost one: the Redis Streams
broker (taskiq-redis), and RabbitMQ (taskiq-aio-pika) when --amqp is given.

    python bench/queue_engines.py [--redis redis://127.0.0.1:6379/9] [--amqp amqp://...]

Needs a Redis server (default: TUTORBOT_TEST_REDIS_URL, else localhost): the queue, and the log
every worker writes its job starts and ends to. Workers are separate processes (this file run
with `worker`), each one job at a time, as `tutorbot worker` is. Jobs sleep rather than
compute, so the figures show the engine, not the CPU. With --amqp, the same cases run on
RabbitMQ (taskiq-aio-pika must be importable; it is not a dependency of tutorbot).

(a) 12 equal jobs to 2 workers, the second started after the jobs were enqueued: the split
    and the time to drain, with the broker's default batch (xread_count=100; AMQP
    prefetch 10) and with 1.
(b) A worker SIGKILLed mid-job: is the job redelivered by the engine alone (no further
    message) within a few idle timeouts; then after one more message arrives; how often it
    started and finished.
(c) Redis only: a job longer than idle_timeout while another worker is fed a message: does
    it run twice at once (why idle_timeout must exceed the longest run).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass

import redis.asyncio as redis
from taskiq import AsyncBroker
from taskiq.acks import AcknowledgeType
from taskiq.kicker import AsyncKicker
from taskiq.receiver import Receiver
from taskiq_redis import RedisStreamBroker

TASK = "bench.sleep"


def make_broker(url: str, queue: str, batch: int, idle_ms: int) -> AsyncBroker:
    """batch: messages a worker takes at once (Redis xread_count, AMQP prefetch)."""
    if url.startswith("amqp"):
        from taskiq_aio_pika import AioPikaBroker, Exchange, Queue, QueueType

        return AioPikaBroker(url, qos=batch, exchange=Exchange(name=queue),
                             task_queues=[Queue(name=queue, type=QueueType.CLASSIC)])
    return RedisStreamBroker(url, queue_name=queue, consumer_group_name=queue, consumer_id="0",
                             xread_count=batch, idle_timeout=idle_ms, xread_block=1000)


async def serve(url: str, log_url: str, queue: str, name: str, batch: int,
                idle_ms: int) -> None:
    """One worker: one job at a time; logs each start and end to a Redis list."""
    log = redis.from_url(log_url)
    broker = make_broker(url, queue, batch, idle_ms)
    broker.is_worker_process = True

    async def sleep_job(job: int, seconds: float) -> None:
        await log.rpush(f"{queue}:log", f"start {job} {name} {time.time()}")
        await asyncio.sleep(seconds)
        await log.rpush(f"{queue}:log", f"end {job} {name} {time.time()}")

    broker.register_task(sleep_job, task_name=TASK)
    receiver = Receiver(broker, max_async_tasks=1, max_prefetch=0, run_startup=False,
                        ack_type=AcknowledgeType.WHEN_EXECUTED)
    await broker.startup()
    await log.rpush(f"{queue}:log", f"ready - {name} {time.time()}")
    await receiver.listen(asyncio.Event())


@dataclass
class Event:
    kind: str
    job: int
    worker: str
    at: float


class Bench:
    def __init__(self, url: str, log_url: str) -> None:
        self.url, self.log_url = url, log_url  # the queue's server; Redis for the log
        self.engine = "rabbitmq" if url.startswith("amqp") else "redis"
        self.procs: list[subprocess.Popen[bytes]] = []

    def start_worker(self, queue: str, name: str, batch: int, idle_ms: int
                     ) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen([sys.executable, __file__, "worker", "--queue-url", self.url,
                                 "--redis", self.log_url, "--queue", queue, "--name", name,
                                 "--batch", str(batch), "--idle-ms", str(idle_ms)],
                                stderr=subprocess.DEVNULL)
        self.procs.append(proc)
        return proc

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            proc.wait(timeout=10)
        self.procs.clear()

    async def events(self, queue: str) -> list[Event]:
        client = redis.from_url(self.log_url)
        raw = await client.lrange(f"{queue}:log", 0, -1)
        await client.aclose()
        out = []
        for line in raw:
            kind, job, worker, at = line.decode().split()
            out.append(Event(kind, -1 if job == "-" else int(job), worker, float(at)))
        return out

    async def wait_for(self, queue: str, test, within_s: float) -> list[Event] | None:
        deadline = time.time() + within_s
        while time.time() < deadline:
            events = await self.events(queue)
            if test(events):
                return events
            await asyncio.sleep(0.05)
        return None

    async def kick(self, queue: str, job: int, seconds: float) -> None:
        broker = make_broker(self.url, queue, 1, 600_000)
        await broker.startup()
        await AsyncKicker(TASK, broker, {}).kiq(job=job, seconds=seconds)
        await broker.shutdown()

    async def ready(self, queue: str, count: int) -> None:
        done = await self.wait_for(queue, lambda ev: sum(e.kind == "ready" for e in ev) >= count,
                                   30)
        assert done is not None, "workers did not start"

    async def split(self, batch: int, jobs: int = 12, seconds: float = 0.5) -> None:
        queue = f"bench-{uuid.uuid4().hex[:8]}"
        self.start_worker(queue, "A", batch, 600_000)
        await self.ready(queue, 1)
        started = time.time()
        for job in range(jobs):
            await self.kick(queue, job, seconds)
        await asyncio.sleep(0.3)
        self.start_worker(queue, "B", batch, 600_000)
        events = await self.wait_for(
            queue, lambda ev: sum(e.kind == "end" for e in ev) >= jobs, 60)
        self.stop_all()
        assert events is not None, "jobs did not finish"
        ends = [e for e in events if e.kind == "end"]
        by = {w: sum(e.worker == w for e in ends) for w in ("A", "B")}
        drain = max(e.at for e in ends) - started
        print(f"{self.engine:8} (a) batch {batch:<3}  split A/B {by['A']}/{by['B']}   "
              f"drained in {drain:.1f} s  (ideal ~{jobs * seconds / 2 + 0.9:.1f} s with B's "
              "start-up)", flush=True)

    async def lost_job(self, idle_ms: int = 3000, watch_s: float = 10.0) -> None:
        queue = f"bench-{uuid.uuid4().hex[:8]}"
        workers = {n: self.start_worker(queue, n, 1, idle_ms) for n in ("A", "B")}
        await self.ready(queue, 2)
        await self.kick(queue, 0, 4.0)
        events = await self.wait_for(queue, lambda ev: any(e.kind == "start" for e in ev), 10)
        assert events is not None
        holder = next(e.worker for e in events if e.kind == "start")
        await asyncio.sleep(1.0)
        workers[holder].send_signal(signal.SIGKILL)
        killed = time.time()
        alone = await self.wait_for(
            queue, lambda ev: sum(e.kind == "start" and e.job == 0 for e in ev) >= 2, watch_s)
        redelivered = (f"yes, {alone[-1].at - killed:.2f} s after the kill" if alone else
                       "no")
        idle = f"idle_timeout={idle_ms / 1000:g} s; " if self.engine == "redis" else ""
        print(f"{self.engine:8} (b) {idle}worker {holder} SIGKILLed 1 s into job 0; "
              f"redelivered with no new message within {watch_s:g} s: {redelivered}",
              flush=True)
        nudged = time.time()
        if not alone:
            await self.kick(queue, 1, 0.0)
        final = await self.wait_for(
            queue, lambda ev: any(e.kind == "end" and e.job == 0 for e in ev), watch_s)
        await asyncio.sleep(2.0)  # would a second copy start?
        final = await self.events(queue)
        self.stop_all()
        restarts = [e for e in final if e.kind == "start" and e.job == 0][1:]
        if alone:
            print(f"             job 0 started {1 + len(restarts)} times, finished "
                  f"{sum(e.kind == 'end' and e.job == 0 for e in final)} time(s)", flush=True)
        elif restarts:
            again = restarts[0].at
            print(f"             after one more message: job 0 started again "
                  f"{again - nudged:.2f} s after it ({again - killed:.1f} s after the kill); "
                  f"job 0 started "
                  f"{1 + len(restarts)} times, finished "
                  f"{sum(e.kind == 'end' and e.job == 0 for e in final)} time(s)", flush=True)
        else:
            print("             after one more message: job 0 was never redelivered",
                  flush=True)

    async def overlong_job(self, idle_ms: int = 2000) -> None:
        queue = f"bench-{uuid.uuid4().hex[:8]}"
        self.start_worker(queue, "A", 1, idle_ms)
        await self.ready(queue, 1)
        await self.kick(queue, 0, 5.0)
        await self.wait_for(queue, lambda ev: any(e.kind == "start" for e in ev), 10)
        self.start_worker(queue, "B", 1, idle_ms)
        await self.ready(queue, 2)
        await asyncio.sleep(max(0.0, idle_ms / 1000 + 0.5 - 1.0))
        await self.kick(queue, 1, 0.0)  # B takes this, then its reclaim pass runs
        await asyncio.sleep(6.0)
        events = await self.events(queue)
        self.stop_all()
        starts = [e for e in events if e.kind == "start" and e.job == 0]
        ends = [e for e in events if e.kind == "end" and e.job == 0]
        overlap = len(starts) > 1 and starts[1].at < ends[0].at if ends else len(starts) > 1
        print(f"{self.engine:8} (c) a 5 s job with idle_timeout={idle_ms / 1000:g} s: started "
              f"{len(starts)} times ({', '.join(e.worker for e in starts)}), twice at once: "
              f"{'yes' if overlap else 'no'}", flush=True)


async def main(redis_url: str, amqp_url: str | None) -> None:
    for url in (redis_url, amqp_url):
        if url is None:
            continue
        bench = Bench(url, redis_url)
        try:
            await bench.split(100 if bench.engine == "redis" else 10)
            await bench.split(1)
            await bench.lost_job()
            if bench.engine == "redis":
                await bench.overlong_job()
        finally:
            bench.stop_all()


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("role", nargs="?", default="bench", choices=("bench", "worker"))
    parser.add_argument("--redis", default=os.environ.get("TUTORBOT_TEST_REDIS_URL",
                                                          "redis://127.0.0.1:6379/0"))
    parser.add_argument("--amqp", help="a RabbitMQ URL, to run the same cases there")
    parser.add_argument("--queue-url", help="worker: the queue's server")
    parser.add_argument("--queue")
    parser.add_argument("--name")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--idle-ms", type=int, default=600_000)
    return parser.parse_args()


if __name__ == "__main__":
    args = parse()
    if args.role == "worker":
        asyncio.run(serve(args.queue_url, args.redis, args.queue, args.name, args.batch,
                          args.idle_ms))
    else:
        asyncio.run(main(args.redis, args.amqp))
