"""`tutorbot worker`: serves explanation jobs from the queue, one at a time (one per GPU).

Needs REDIS_URL (the queue) and the database the bots use: DATABASE_URL (PostgreSQL, shared
across machines), or the SQLite file at DATABASE_PATH when bot and worker share one machine.
SIGTERM or Ctrl-C stops it: the job in hand is abandoned (its child killed) and its row left
for the bot, which re-kicks it to another worker at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys

from bot.bank import load_bank
from bot.cli.services import UNREACHABLE, unreachable_line
from bot.config import Config
from bot.queue.broker import make_broker
from bot.queue.worker import JobWorker, serve
from bot.store.db import open_database
from bot.store.explanations import ExplanationJobs

log = logging.getLogger(__name__)


def main(config: Config) -> int:
    """Serves until SIGTERM or Ctrl-C; REDIS_URL was checked by the command line."""
    if config.worker_gpu is not None:  # read by the children, which alone touch CUDA
        os.environ["CUDA_VISIBLE_DEVICES"] = str(config.worker_gpu)
    try:
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C before the handler is in place
            asyncio.run(run(config))
    except UNREACHABLE as exc:
        print(f"tutorbot worker: {unreachable_line(exc, config)}", file=sys.stderr)
        return 1
    return 0


def worker_id(config: Config) -> str:
    """Who holds a job, as its row shows it: the machine, the process, the GPU."""
    gpu = "" if config.worker_gpu is None else f":gpu{config.worker_gpu}"
    return f"{socket.gethostname()}:{os.getpid()}{gpu}"


async def run(config: Config) -> None:
    bank = load_bank(config.questions_path)
    db = await open_database(config.database, config.database_synchronous)
    try:
        worker = JobWorker(ExplanationJobs(db), bank, worker_id=worker_id(config),
                           gpu=config.worker_gpu, timeout_s=config.worker_timeout_s,
                           memory_mb=config.worker_memory_mb, cache_dir=config.worker_cache_dir)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stopping, stop, worker)
        log.info("worker %s serving explanation jobs (%s, %d problems)", worker.worker_id,
                 worker.device, len(bank.problems))
        await serve(worker, make_broker(config.redis_url, config.worker_timeout_s), stop)
    finally:
        await db.close()
    log.info("worker stopped")


def stopping(stop: asyncio.Event, worker: JobWorker) -> None:
    log.info("stopping: no new jobs; the job in hand is abandoned")
    stop.set()
    worker.abandon()
