"""Explanation jobs through the queue, end to end: the bot's Explainer, Redis, PostgreSQL and
separate `tutorbot worker` processes.

    python bench/queue_jobs.py [--postgres URL] [--redis URL] [--jobs 12] [--tiny 50]

Needs a PostgreSQL server (a fresh database per part is made and dropped) and a Redis server
whose database it may empty (default: TUTORBOT_TEST_POSTGRES_URL, and TUTORBOT_TEST_REDIS_URL
with its database number changed to 9).

(1) --jobs equal jobs, each about 1 s of CPU with one torch thread after importing torch,
    each with its own cache key, through 1 worker and then through 2: wall time and ratio.
(2) The latency from enqueueing a job to a worker starting it (job row: started_at -
    enqueued_at), over --tiny jobs that return at once, sent one after another: p50, p95.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections import Counter
from pathlib import Path

import redis.asyncio as redis

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.bank import Bank, load_bank  # noqa: E402
from bot.core.rules import CoreRules  # noqa: E402
from bot.queue.broker import make_broker  # noqa: E402
from bot.queue.client import QueueRuns  # noqa: E402
from bot.store import Store  # noqa: E402
from bot.store.explanations import ExplanationJob  # noqa: E402
from bot.worker.explainer import ANY_WORKER, Explainer, Limits  # noqa: E402
from tests.services import drop_postgres_database, fresh_postgres_database  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
TIMEOUT_S = 120
SCRIPT = """
    import time

    def run(ctx):
        if ctx.params["kind"] == "tiny":
            print("done at once")
            return {"answer": "B", "metrics": {}}
        import torch

        torch.set_num_threads(1)
        start = time.process_time()
        a = torch.randn(256, 256)
        steps = 0
        while time.process_time() - start < 1.0:
            a = torch.tanh(a @ a.T / 256)
            steps += 1
        print(f"{steps} steps in 1 s of CPU")
        return {"answer": "B", "metrics": {"steps": steps}}
"""


def problem_yaml(problem_id: str, kind: str) -> str:
    return f"""\
  - id: {problem_id}
    kind: conceptual
    difficulty: intermediate
    title: Bench job {problem_id}
    prompt: What does it print?
    choices: {{A: alpha, B: beta, C: gamma}}
    answer: B
    hint: Think.
    explanation: Because.
    why_not: {{A: not alpha, C: not gamma}}
    experiment: {{script: job.py, params: {{kind: {kind}, id: {problem_id}}}}}
"""


def write_pack(root: Path, jobs: int, tiny: int) -> Path:
    pack = root / "queue-bench"
    (pack / "experiments").mkdir(parents=True)
    (pack / "experiments" / "job.py").write_text(textwrap.dedent(SCRIPT))
    problems = [problem_yaml(f"cpu-{i}", "cpu") for i in range(jobs)]
    problems += [problem_yaml(f"tiny-{i}", "tiny") for i in range(tiny)]
    (pack / "pack.yaml").write_text("id: queue-bench\ntitle: Queue bench\nbadge:\n"
                                    "  name: Bench Master\nproblems:\n" + "".join(problems))
    return root


class Stack:
    """A fresh database, an emptied Redis, n worker processes and the bot's Explainer."""

    def __init__(self, server: str, redis_url: str, packs: Path, bank: Bank) -> None:
        self.server, self.redis_url, self.packs, self.bank = server, redis_url, packs, bank
        self.workers: list[subprocess.Popen[bytes]] = []

    async def __aenter__(self) -> Stack:
        client = redis.from_url(self.redis_url)
        await client.flushdb()
        await client.aclose()
        self.url = await fresh_postgres_database(self.server)
        self.store = await Store.open(self.url, CoreRules.for_bank(self.bank))
        runs = QueueRuns(self.store.explanation_jobs, self.store.explanations,
                         make_broker(self.redis_url, TIMEOUT_S), size="cpu",
                         timeout_s=TIMEOUT_S, poll_s=0.05)
        self.explainer = Explainer(self.store.explanations, self.bank, size="cpu",
                                   device=ANY_WORKER, runs=runs,
                                   limits=Limits(queue=1000, per_member=1000, per_guild=1000))
        return self

    async def start_workers(self, count: int) -> None:
        env = {**os.environ, "DATABASE_URL": self.url, "REDIS_URL": self.redis_url,
               "QUESTIONS_PATH": str(self.packs), "WORKER_TIMEOUT_S": str(TIMEOUT_S),
               "LOG_LEVEL": "WARNING"}
        for _ in range(count):
            self.workers.append(subprocess.Popen(  # noqa: ASYNC220 - never waited on here
                [sys.executable, "-m", "bot", "worker"], cwd=REPO, env=env))
        await self.until_consumers(count)

    async def until_consumers(self, count: int) -> None:
        """Until every worker waits on the stream: a client blocked in XREADGROUP (Redis 7.0
        lists a consumer in the group only once it has been given a message)."""
        client = redis.from_url(self.redis_url)
        db = str(client.connection_pool.connection_kwargs.get("db", 0))
        try:
            for _ in range(600):
                clients = await client.client_list()
                if sum(c.get("cmd") == "xreadgroup" and c.get("db") == db
                       for c in clients) >= count:
                    return
                await asyncio.sleep(0.1)
            raise RuntimeError("the workers did not start")
        finally:
            await client.aclose()

    async def explain(self, problem_id: str) -> tuple[ExplanationJob, float]:
        """The job's row once done, and the run's own duration."""
        problem = self.bank.problems[problem_id]
        result = await self.explainer.explain(problem, member_id=1, guild_id=1)
        job = await self.store.explanation_jobs.get(self.explainer.cache_key(problem))
        assert job is not None and job.started_at is not None
        return job, result.duration_s

    async def __aexit__(self, *exc: object) -> None:
        for worker in self.workers:
            worker.terminate()
        for worker in self.workers:
            worker.wait(timeout=30)
        await self.explainer.close()
        await self.store.close()
        await drop_postgres_database(self.server, self.url)


async def throughput(stack_for, workers: int, jobs: int) -> float:
    async with stack_for() as stack:
        await stack.start_workers(workers)
        started = time.perf_counter()
        done = await asyncio.gather(*(stack.explain(f"cpu-{i}") for i in range(jobs)))
        wall = time.perf_counter() - started
    split = Counter(job.worker for job, _ in done)
    mean_run = statistics.mean(duration for _, duration in done)
    print(f"{workers:7}  {jobs:4}  {wall:7.1f}  {mean_run:9.1f}   "
          f"{'/'.join(str(n) for n in sorted(split.values(), reverse=True))}", flush=True)
    return wall


async def latencies(stack_for, tiny: int) -> list[float]:
    async with stack_for() as stack:
        await stack.start_workers(1)
        await stack.explain("tiny-0")  # the worker's first job: connections warmed
        jobs = [(await stack.explain(f"tiny-{i}"))[0] for i in range(1, tiny)]
    return [job.started_at - job.enqueued_at for job in jobs if job.started_at]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def main(server: str, redis_url: str, jobs: int, tiny: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        packs = write_pack(Path(folder), jobs, tiny)
        bank = load_bank(packs)

        def stack_for() -> Stack:
            return Stack(server, redis_url, packs, bank)

        print(f"{jobs} jobs, each: import torch, then 1 s of CPU on one torch thread")
        print("workers  jobs  wall s  mean run s  jobs per worker", flush=True)
        one = await throughput(stack_for, 1, jobs)
        two = await throughput(stack_for, 2, jobs)
        print(f"2 workers / 1 worker: {two / one:.2f} (target <= 0.6)", flush=True)
        waits = [1000 * w for w in await latencies(stack_for, tiny)]
        print(f"enqueue -> worker starts the job, {len(waits)} jobs: "
              f"p50 {statistics.median(waits):.1f} ms, p95 {percentile(waits, 0.95):.1f} ms, "
              f"max {max(waits):.1f} ms (target p50 <= 50 ms)", flush=True)


def bench_redis(url: str) -> str:
    return url.rsplit("/", 1)[0] + "/9"


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=os.environ.get("TUTORBOT_TEST_POSTGRES_URL"))
    parser.add_argument("--redis", default=bench_redis(
        os.environ.get("TUTORBOT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")))
    parser.add_argument("--jobs", type=int, default=12)
    parser.add_argument("--tiny", type=int, default=50)
    args = parser.parse_args()
    if not args.postgres:
        parser.error("needs --postgres or TUTORBOT_TEST_POSTGRES_URL")
    return args


if __name__ == "__main__":
    args = parse()
    asyncio.run(main(args.postgres, args.redis, args.jobs, args.tiny))
