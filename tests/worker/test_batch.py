"""`run_batch`: several experiments in one child, each failure reported against its own script."""

from __future__ import annotations

from bot.worker.batch import BatchItem, run_batch
from bot.worker.runner import (
    ExperimentCrashed,
    ExperimentError,
    ExperimentOutOfMemory,
    ExperimentTimeout,
    RunResult,
)

REPORTS_PID = """
import os

def run(ctx):
    return {"answer": "B", "metrics": {"pid": os.getpid()}}
"""


async def run_all(scripts, **options) -> list:
    # device "cpu" keeps torch out of these children: they start in a fraction of a second.
    items = [BatchItem(script, {}) for script in scripts]
    return [pair async for pair in run_batch(items, device="cpu", **options)]


def pid_of(outcome: RunResult | ExperimentError) -> int:
    assert isinstance(outcome, RunResult), outcome
    return int(outcome.metrics["pid"])


async def test_the_experiments_share_one_child(write_script):
    scripts = [write_script(REPORTS_PID, name=f"e{i}.py") for i in range(3)]
    outcomes = await run_all(scripts)
    assert [index for index, _ in outcomes] == [0, 1, 2]
    assert len({pid_of(outcome) for _, outcome in outcomes}) == 1


async def test_a_raising_script_is_reported_and_the_child_goes_on(write_script):
    ok = write_script(REPORTS_PID, name="ok.py")
    boom = write_script("def run(ctx):\n    raise RuntimeError('boom')\n", name="boom.py")
    [(_, first), (_, failed), (_, last)] = await run_all([ok, boom, ok])
    assert isinstance(failed, ExperimentCrashed) and "boom" in failed.message
    assert pid_of(first) == pid_of(last)


async def test_a_timeout_is_reported_against_its_script_and_the_rest_still_run(write_script):
    ok = write_script(REPORTS_PID, name="ok.py")
    slow = write_script("import time\n\ndef run(ctx):\n    time.sleep(30)\n", name="slow.py")
    [(_, first), (_, stopped), (_, last)] = await run_all([ok, slow, ok], timeout_s=3)
    assert isinstance(stopped, ExperimentTimeout)
    assert pid_of(first) != pid_of(last)  # a fresh child ran the script after the timeout


async def test_a_child_that_dies_is_blamed_on_the_running_script_only(write_script):
    ok = write_script(REPORTS_PID, name="ok.py")
    dies = write_script("import os\n\ndef run(ctx):\n    os._exit(7)\n", name="dies.py")
    [(_, first), (_, died), (_, last)] = await run_all([ok, dies, ok])
    assert isinstance(died, ExperimentCrashed) and "exit code 7" in died.message
    assert pid_of(first) != pid_of(last)


async def test_the_memory_limit_stops_the_script_over_it(write_script):
    ok = write_script(REPORTS_PID, name="ok.py")
    hog = write_script("import time\n\ndef run(ctx):\n    held = bytearray(400 * 2**20)\n"
                       "    time.sleep(10)\n    return held\n", name="hog.py")
    outcomes = await run_all([ok, hog, ok], memory_mb=250, timeout_s=20)
    assert [index for index, _ in outcomes] == [0, 1, 2]
    assert isinstance(outcomes[1][1], ExperimentOutOfMemory)
    assert isinstance(outcomes[2][1], RunResult)


async def test_a_script_outside_its_pack_is_refused_without_hiding_the_others(write_script,
                                                                              tmp_path):
    ok = write_script(REPORTS_PID, name="ok.py")
    (tmp_path / "pack" / "experiments").mkdir(parents=True)
    link = tmp_path / "pack" / "experiments" / "escape.py"
    link.symlink_to(ok)  # resolves outside pack/
    outcomes = dict(await run_all([link, ok]))
    assert isinstance(outcomes[0], ExperimentError) and "outside" in outcomes[0].message
    assert isinstance(outcomes[1], RunResult)
