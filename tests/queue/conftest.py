"""A pack of tiny experiments (no torch) for the queue, and the bot's and worker's parts."""

from __future__ import annotations

import asyncio
import contextlib
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.bank import Bank, load_bank
from bot.core.rules import CoreRules
from bot.queue.broker import make_broker
from bot.queue.client import QueueRuns
from bot.queue.worker import JobWorker, serve
from bot.store import Store
from bot.worker.explainer import ANY_WORKER, Explainer, Limits

# Every run appends its problem to runs.log beside it, so a test can count runs.
SCRIPT = """
    import time
    from pathlib import Path

    def run(ctx):
        here = Path(__file__).parent
        with (here / "runs.log").open("a") as log:
            log.write(ctx.params["name"] + "\\n")
        mode = ctx.params["mode"]
        if mode == "fail":
            raise ValueError("the loss went to nan")
        marker = here / "slow.marker"
        if mode == "slow-once" and not marker.exists():
            marker.touch()
            ctx.progress(1, 3, "sleeping")
            time.sleep(60)
        for step in range(1, 4):
            ctx.progress(step, 3, "step")
        print(f"ran {ctx.params['name']} on {ctx.device}")
        if mode == "figure":
            import matplotlib.pyplot as plt

            fig, ax = plt.subplots()
            ax.plot([0, 1], [1, 0])
            ctx.figure("loss", fig)
        return {"answer": "B", "metrics": {"steps": 3}}
"""
MODES = {"quick": "quick", "figure": "figure", "fail": "fail", "slow": "slow-once"}


def problem_yaml(name: str, mode: str) -> str:
    return f"""\
  - id: lab-{name}
    kind: conceptual
    difficulty: intermediate
    title: The {name} experiment
    prompt: What does it print?
    choices: {{A: alpha, B: beta, C: gamma}}
    answer: B
    hint: Think.
    explanation: Because.
    why_not: {{A: not alpha, C: not gamma}}
    experiment: {{script: lab.py, params: {{name: {name}, mode: {mode}}}}}
"""


def write_lab_pack(root: Path) -> Path:
    """root/queue-lab/ with one problem per mode; returns root, a QUESTIONS_PATH."""
    pack = root / "queue-lab"
    (pack / "experiments").mkdir(parents=True)
    (pack / "experiments" / "lab.py").write_text(textwrap.dedent(SCRIPT))
    problems = "".join(problem_yaml(name, mode) for name, mode in MODES.items())
    (pack / "pack.yaml").write_text(f"id: queue-lab\ntitle: Queue lab\nbadge:\n"
                                    f"  name: Lab Master\nproblems:\n{problems}")
    return root


@pytest.fixture
def packs(tmp_path: Path) -> Path:
    return write_lab_pack(tmp_path / "packs")


@pytest.fixture
def bank(packs: Path) -> Bank:
    return load_bank(packs)


@pytest.fixture
def runs_log(packs: Path) -> Path:
    return packs / "queue-lab" / "experiments" / "runs.log"


@pytest.fixture
async def store(postgres_url: str, bank: Bank) -> AsyncIterator[Store]:
    store = await Store.open(postgres_url, CoreRules.for_bank(bank))
    yield store
    await store.close()


def queue_explainer(store: Store, bank: Bank, redis_url: str, *, timeout_s: float = 30,
                    margin_s: float = 30, max_attempts: int = 3) -> Explainer:
    """The bot's side: what Explainer.from_config builds for EXPLAIN_BACKEND=queue, with
    the deadline's parts and the polling made small for tests."""
    runs = QueueRuns(store.explanation_jobs, store.explanations,
                     make_broker(redis_url, timeout_s, margin_s=margin_s), size="test",
                     timeout_s=timeout_s, margin_s=margin_s, max_attempts=max_attempts,
                     poll_s=0.05)
    return Explainer(store.explanations, bank, size="test", device=ANY_WORKER,
                     limits=Limits(per_member=10), runs=runs)


@contextlib.asynccontextmanager
async def running_worker(store: Store, bank: Bank, redis_url: str,
                         name: str = "in-process") -> AsyncIterator[JobWorker]:
    """A worker in this process, as `tutorbot worker` runs one."""
    worker = JobWorker(store.explanation_jobs, bank, worker_id=name, timeout_s=30,
                       memory_mb=None)
    stop = asyncio.Event()
    serving = asyncio.create_task(serve(worker, make_broker(redis_url, 30), stop))
    try:
        yield worker
    finally:
        stop.set()
        worker.abandon()
        await asyncio.wait_for(serving, 10)
