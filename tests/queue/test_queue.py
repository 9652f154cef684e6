"""Explanation jobs through the queue: real Redis, real PostgreSQL, tiny experiments in real
child processes. The job row is the truth; the bot's deadline re-kicks lost jobs."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time

import psutil
import pytest
import redis.asyncio as redis

from bot.config import Config
from bot.core.rules import CoreRules
from bot.queue.broker import GROUP, STREAM
from bot.store import Store
from bot.worker.explainer import Explainer, Progress, RunFailed
from tests.bot.conftest import REPO
from tests.queue.conftest import queue_explainer, running_worker


async def until(condition, within_s: float = 20.0) -> None:
    deadline = time.monotonic() + within_s
    while not await condition():
        assert time.monotonic() < deadline, "condition not reached"
        await asyncio.sleep(0.05)


async def test_a_worker_runs_the_job_and_the_bot_gets_text_and_figures(store, bank, redis_url):
    config = Config(explain_backend="queue", redis_url=redis_url, worker_size="test")
    explainer = Explainer.from_config(config, store.explanations, bank, time.time)
    problem = bank.problems["lab-figure"]
    async with running_worker(store, bank, redis_url):
        fresh = await asyncio.wait_for(explainer.explain(problem, member_id=1, guild_id=1), 20)
    again = await explainer.explain(problem, member_id=2, guild_id=1)
    await explainer.close()
    assert "ran figure on cpu" in fresh.text and not fresh.cached
    assert [name for name, _ in fresh.figures] == ["loss"]
    assert fresh.figures[0][1].startswith(b"\x89PNG")
    assert again.cached and again.text == fresh.text
    job = await store.explanation_jobs.get(explainer.cache_key(problem))
    assert (job.state, job.attempts, job.worker) == ("done", 1, "in-process")


async def test_identical_requests_from_two_bot_processes_run_once(store, bank, redis_url,
                                                                  postgres_url, runs_log):
    other = await Store.open(postgres_url, CoreRules.for_bank(bank))
    bots = [queue_explainer(store, bank, redis_url), queue_explainer(other, bank, redis_url)]
    problem = bank.problems["lab-quick"]
    waiting = [asyncio.create_task(bot.explain(problem, member_id=m, guild_id=1))
               for m, bot in enumerate(bots * 2)]
    await asyncio.sleep(0.3)  # all four wait on the job before any worker exists
    async with running_worker(store, bank, redis_url):
        results = await asyncio.wait_for(asyncio.gather(*waiting), 20)
    assert {r.text for r in results} == {"ran quick on cpu\n"}
    assert runs_log.read_text().split() == ["quick"]
    assert await redis.from_url(redis_url).xlen(STREAM) == 1
    for bot in bots:
        await bot.close()
    await other.close()


async def test_a_failing_experiment_surfaces_as_run_failed(store, bank, redis_url):
    explainer = queue_explainer(store, bank, redis_url)
    async with running_worker(store, bank, redis_url):
        with pytest.raises(RunFailed, match="the loss went to nan"):
            await asyncio.wait_for(
                explainer.explain(bank.problems["lab-fail"], member_id=1, guild_id=1), 20)
    await explainer.close()
    assert await explainer.cached(bank.problems["lab-fail"]) is None


async def test_a_job_whose_worker_vanished_is_rekicked_and_completes(store, bank, redis_url):
    """A SIGKILLed worker leaves its row running and its message unacknowledged; the engine
    hands the message on only after idle_timeout, and only once another message arrives."""
    explainer = queue_explainer(store, bank, redis_url, timeout_s=0.5, margin_s=1)
    problem = bank.problems["lab-quick"]
    key = explainer.cache_key(problem)
    waiting = asyncio.create_task(explainer.explain(problem, member_id=1, guild_id=1))
    await _take_and_die(store, redis_url, key)  # the vanished worker: claimed, never acked
    async with running_worker(store, bank, redis_url, name="survivor"):
        result = await asyncio.wait_for(waiting, 15)
    await explainer.close()
    job = await store.explanation_jobs.get(key)
    assert "ran quick" in result.text
    assert (job.state, job.attempts, job.worker) == ("done", 2, "survivor")


async def test_after_a_few_attempts_the_member_reads_why(store, bank, redis_url):
    explainer = queue_explainer(store, bank, redis_url, timeout_s=0.1, margin_s=0.1,
                                max_attempts=2)  # and no worker at all
    with pytest.raises(RunFailed, match="No explanation worker finished this run after 2"):
        await asyncio.wait_for(
            explainer.explain(bank.problems["lab-quick"], member_id=1, guild_id=1), 10)
    await explainer.close()


@pytest.mark.slow
async def test_the_worker_command_serves_jobs_and_abandons_cleanly_on_sigterm(
        store, bank, packs, redis_url, postgres_url):
    explainer = queue_explainer(store, bank, redis_url)
    worker = subprocess.Popen(  # noqa: ASYNC220 - started once, never waited on here
        [sys.executable, "-m", "bot", "worker"], cwd=REPO, stderr=subprocess.PIPE,
        env={**os.environ, "DATABASE_URL": postgres_url, "REDIS_URL": redis_url,
             "QUESTIONS_PATH": str(packs), "WORKER_SIZE": "test", "LOG_LEVEL": "WARNING"})
    try:
        served = await asyncio.wait_for(
            explainer.explain(bank.problems["lab-quick"], member_id=1, guild_id=1), 30)
        assert "ran quick on cpu" in served.text
        progress = Progress()
        slow = bank.problems["lab-slow"]
        waiting = asyncio.create_task(
            explainer.explain(slow, member_id=1, guild_id=1, progress=progress))
        await until(lambda: _is(progress.label == "sleeping"))  # via the row, from the child
        children = psutil.Process(worker.pid).children(recursive=True)
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(10) == 0
        assert not any(child.is_running() for child in children)
        key = explainer.cache_key(slow)
        await until(lambda: _attempts(store, key, 2), within_s=5)  # re-kicked at once
        waiting.cancel()
    finally:
        if worker.poll() is None:
            worker.kill()
        worker.wait()
        await explainer.close()


async def _is(value: bool) -> bool:
    return value


async def _attempts(store: Store, key: str, attempts: int) -> bool:
    job = await store.explanation_jobs.get(key)
    return job is not None and job.attempts == attempts


async def _take_and_die(store: Store, redis_url: str, key: str) -> None:
    client = redis.from_url(redis_url)
    await until(lambda: _has_message(client))
    assert await client.xreadgroup(GROUP, "ghost", {STREAM: ">"}, count=1)
    await client.aclose()
    assert await store.explanation_jobs.claim(key, "ghost", time.time()) is not None


async def _has_message(client: redis.Redis) -> bool:
    return bool(await client.exists(STREAM)) and await client.xlen(STREAM) > 0
