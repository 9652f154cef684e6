"""`verify` compares each experiment's derived answer with the key, failures included."""

from __future__ import annotations

import pytest

import bot.worker.verify as verify_module
from bot.worker.verify import VerifyOutcome, verify

ANSWERS_B = """
def run(ctx):
    return {"answer": "B", "metrics": {}}
"""


async def test_verify_confirms_a_right_key_and_flags_a_wrong_one(write_script):
    script = write_script(ANSWERS_B)
    seen: list[VerifyOutcome] = []
    outcomes = await verify([("right", script, {}, "B"), ("wrong", script, {}, "C")],
                            on_result=seen.append)
    assert [(o.problem_id, o.derived, o.ok) for o in outcomes] == [
        ("right", "B", True), ("wrong", "B", False)]
    assert outcomes[1].expected == "C" and outcomes[1].error is None
    assert seen == outcomes


async def test_verify_reports_a_crash_as_a_failed_outcome(write_script):
    script = write_script("def run(ctx):\n    raise RuntimeError('boom')\n", name="crash.py")
    [outcome] = await verify([("crashing", script, {}, "A")])
    assert not outcome.ok and outcome.derived is None
    assert "boom" in (outcome.error or "")


PID_AND_THREADS = """
import os

import torch


def run(ctx):
    letter = ctx.params["letter"]
    return {"answer": letter, "metrics": {"pid": os.getpid(),
                                          "threads": torch.get_num_threads()}}
"""


async def test_jobs_run_side_by_side_and_keep_the_items_order(write_script):
    script = write_script(PID_AND_THREADS, name="lanes.py")
    seen: list[VerifyOutcome] = []
    items = [(f"p{i}", script, {"letter": letter}, letter) for i, letter in enumerate("ABCDA")]
    outcomes = await verify(items, jobs=2, on_result=seen.append)
    assert [(o.problem_id, o.derived, o.ok) for o in outcomes] == [
        (f"p{i}", letter, True) for i, letter in enumerate("ABCDA")]
    assert sorted(o.problem_id for o in seen) == [o.problem_id for o in outcomes]


async def test_each_lane_is_one_child_with_its_share_of_the_cores(write_script, monkeypatch):
    script = write_script(PID_AND_THREADS, name="lanes.py")
    monkeypatch.setattr("os.cpu_count", lambda: 4)
    batches = []
    original = verify_module.run_batch

    async def spy(batch, **kwargs):
        async for index, result in original(batch, **kwargs):
            batches.append((len(batch), kwargs["threads"], result.metrics))
            yield index, result

    monkeypatch.setattr(verify_module, "run_batch", spy)
    items = [(f"p{i}", script, {"letter": "A"}, "A") for i in range(4)]
    await verify(items, jobs=2, size="test")
    pids = {metrics["pid"] for _, _, metrics in batches}
    assert len(pids) == 2  # one child per lane, each running its two items
    assert {(n, threads) for n, threads, _ in batches} == {(2, 2)}
    assert {metrics["threads"] for _, _, metrics in batches} == {2}


async def test_a_lane_that_fails_itself_ends_verify_with_its_error(write_script, monkeypatch):
    script = write_script(ANSWERS_B)

    async def broken(batch, **kwargs):
        raise OSError("cannot start a child")
        yield  # pragma: no cover - makes this an async generator

    monkeypatch.setattr(verify_module, "run_batch", broken)
    with pytest.raises(OSError, match="cannot start a child"):
        await verify([("a", script, {}, "B"), ("b", script, {}, "B")], jobs=2)
