"""The Explainer's rules with a stand-in backend: cache, single flight, limits, queue bound.

The backend is the one part replaced here; the runs themselves are tested with real torch in
the other tests of tests/worker, and end to end through the bot in tests/bot.
"""

import asyncio
import concurrent.futures

import pytest

from bot.bank import load_bank
from bot.core.rules import CoreRules
from bot.store import Store
from bot.worker.explainer import Explainer, Limits, Progress, QueueFull, RateLimited, RunFailed
from bot.worker.runner import ExperimentTimeout, Figure, RunResult
from tests.bot.conftest import REPO

BANK = load_bank(REPO / "questions")
PROBLEMS = list(BANK.problems.values())


class HeldBackend:
    """Records submissions; each run finishes when the test says so."""

    def __init__(self) -> None:
        self.runs: list[tuple[str, concurrent.futures.Future, object]] = []

    def submit(self, script, params, *, on_progress, **options):
        future: concurrent.futures.Future = concurrent.futures.Future()
        self.runs.append((script.name, future, on_progress))
        return future

    def finish(self, index: int = 0, answer: str = "D") -> None:
        _, future, on_progress = self.runs[index]
        on_progress(3, 3, "epoch")
        future.set_result(RunResult("printed", {"steps": 12}, (Figure("curve", b"png"),),
                                    answer, "cpu", 1.5))


@pytest.fixture
async def store(tmp_path):
    store = await Store.open(tmp_path / "x.db", CoreRules.for_bank(BANK))
    yield store
    await store.close()


def explainer(store, backend, limits=Limits(), clock=lambda: 1000.0):
    return Explainer(store.explanations, BANK, backend, size="test", limits=limits, clock=clock)


async def until(condition) -> None:
    for _ in range(200):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("condition not reached")


async def test_ten_identical_requests_share_one_run(store):
    backend = HeldBackend()
    ex = explainer(store, backend)
    waiting = [asyncio.create_task(ex.explain(PROBLEMS[0], member_id=m, guild_id=1))
               for m in range(10)]
    await until(lambda: backend.runs)
    await asyncio.sleep(0.01)
    assert len(backend.runs) == 1
    backend.finish()
    results = await asyncio.gather(*waiting)
    assert {r.text for r in results} == {"printed"} and not any(r.cached for r in results)


async def test_a_cached_result_answers_without_a_run(store):
    backend = HeldBackend()
    ex = explainer(store, backend)
    first = asyncio.create_task(ex.explain(PROBLEMS[0], member_id=1, guild_id=1))
    await until(lambda: backend.runs)
    backend.finish()
    await first
    again = await ex.explain(PROBLEMS[0], member_id=2, guild_id=1)
    assert again.cached and again.figures == (("curve", b"png"),)
    assert len(backend.runs) == 1
    assert (await ex.cached(PROBLEMS[0])) is not None


async def test_progress_reaches_every_listener(store):
    backend = HeldBackend()
    ex = explainer(store, backend)
    seen = [Progress(), Progress()]
    tasks = [asyncio.create_task(ex.explain(PROBLEMS[0], member_id=m, guild_id=1, progress=p))
             for m, p in enumerate(seen)]
    await until(lambda: backend.runs)
    await asyncio.sleep(0.01)
    backend.finish()
    await asyncio.gather(*tasks)
    assert [(p.step, p.total) for p in seen] == [(3, 3), (3, 3)]


async def test_the_queue_bound_refuses_politely(store):
    backend = HeldBackend()
    ex = explainer(store, backend, Limits(queue=2, per_member=10))
    running = [asyncio.create_task(ex.explain(p, member_id=i, guild_id=1))
               for i, p in enumerate(PROBLEMS[:2])]
    await until(lambda: len(backend.runs) == 2)
    with pytest.raises(QueueFull, match="queue is full"):
        await ex.explain(PROBLEMS[2], member_id=9, guild_id=1)
    for i in range(2):
        backend.finish(i)
    await asyncio.gather(*running)


async def test_a_member_is_rate_limited_but_the_window_passes(store):
    backend = HeldBackend()
    now = [1000.0]
    ex = explainer(store, backend, Limits(per_member=2, member_window_s=600), lambda: now[0])
    for i in range(2):
        task = asyncio.create_task(ex.explain(PROBLEMS[i], member_id=7, guild_id=1))
        await until(lambda i=i: len(backend.runs) == i + 1)
        backend.finish(i)
        await task
    with pytest.raises(RateLimited) as limited:
        await ex.explain(PROBLEMS[2], member_id=7, guild_id=1)
    assert limited.value.retry_after == pytest.approx(600)
    now[0] += 601
    task = asyncio.create_task(ex.explain(PROBLEMS[2], member_id=7, guild_id=1))
    await until(lambda: len(backend.runs) == 3)
    backend.finish(2)
    await task


async def test_a_failed_run_reaches_every_waiter_and_is_not_cached(store):
    backend = HeldBackend()
    ex = explainer(store, backend)
    tasks = [asyncio.create_task(ex.explain(PROBLEMS[0], member_id=m, guild_id=1))
             for m in range(3)]
    await until(lambda: backend.runs)
    await asyncio.sleep(0.01)
    backend.runs[0][1].set_exception(ExperimentTimeout("The run took longer than 120 s."))
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert all(isinstance(r, RunFailed) and "120 s" in str(r) for r in results)
    assert await ex.cached(PROBLEMS[0]) is None


def test_the_cache_key_changes_with_problem_torch_and_device(store):
    ex = explainer(store, HeldBackend())
    key = ex.cache_key(PROBLEMS[0])
    assert key == ex.cache_key(PROBLEMS[0])
    ex.device = "cuda"
    assert ex.cache_key(PROBLEMS[0]) != key
    ex.device, ex._torch = "cpu", "0.0"
    assert ex.cache_key(PROBLEMS[0]) != key
    assert ex.cache_key(PROBLEMS[1]) != ex.cache_key(PROBLEMS[0])
