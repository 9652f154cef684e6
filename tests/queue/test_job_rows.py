"""The job rows on both backends: each write is one conditional statement, so of several
bots or workers racing on a row exactly one enqueues, claims or re-kicks it."""

from __future__ import annotations

import pytest

from bot.store.db import open_database
from bot.store.explanations import ExplanationCache, ExplanationJobs, StoredExplanation

RESULT = StoredExplanation("k", "p", "printed", {"steps": 3}, "B", "cpu", 1.0, 5.0,
                           (("loss", b"png"),))


@pytest.fixture(params=["sqlite", "postgres"])
def database(request, tmp_path):
    if request.param == "sqlite":
        return tmp_path / "x.db"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
async def jobs(database):
    db = await open_database(database)
    yield ExplanationJobs(db)
    await db.close()


async def test_one_caller_enqueues_one_worker_runs_and_a_failure_can_be_asked_again(jobs):
    assert await jobs.request("k", "p", now=1.0, rekick_at=11.0)
    assert not await jobs.request("k", "p", now=1.5, rekick_at=11.5)  # joins
    claimed = await jobs.claim("k", "w1", now=2.0)
    assert claimed.worker == "w1" and claimed.rekick_at == 12.0  # the bot's span, from now
    assert await jobs.claim("k", "w2", now=2.0) is None  # a second delivery is skipped
    assert not await jobs.fail("k", "w2", "not mine", now=3.0)
    assert await jobs.fail("k", "w1", "nan loss", now=3.0)
    assert await jobs.request("k", "p", now=4.0, rekick_at=14.0)  # failed: asked again
    again = await jobs.get("k")
    assert (again.state, again.attempts, again.error) == ("queued", 1, None)


async def test_a_done_job_is_asked_again_only_when_its_result_is_gone(jobs):
    await jobs.request("k", "p", now=1.0, rekick_at=11.0)
    await jobs.claim("k", "w1", now=2.0)
    assert await jobs.complete(RESULT, "w1", now=3.0)
    assert not await jobs.complete(RESULT, "late", now=4.0)  # a re-kicked twin's result
    assert (await ExplanationCache(jobs.db).get("k")).figures == (("loss", b"png"),)
    assert not await jobs.request("k", "p", now=5.0, rekick_at=15.0)
    await jobs.db.execute("DELETE FROM explanations WHERE cache_key = ?", ("k",))
    assert await jobs.request("k", "p", now=6.0, rekick_at=16.0)


async def test_past_its_deadline_a_job_is_rekicked_once_then_given_up(jobs):
    await jobs.request("k", "p", now=1.0, rekick_at=11.0)
    assert await jobs.active_count(now=10.0) == 1
    assert await jobs.active_count(now=11.0) == 0  # a lost job holds no place in the queue
    seen = await jobs.get("k")
    assert await jobs.rekick(seen, 12.0, 22.0, max_attempts=2, error="gave up") == "queued"
    assert await jobs.rekick(seen, 12.0, 22.0, max_attempts=2, error="gave up") is None
    seen = await jobs.get("k")
    assert seen.attempts == 2
    assert await jobs.rekick(seen, 23.0, 33.0, max_attempts=2, error="gave up") == "failed"
    assert (await jobs.get("k")).error == "gave up"
