"""The processes of the multi-process test: bot processes (tests/multiprocess/bot_process.py,
one per shard) and `tutorbot worker` processes, on one PostgreSQL database and one Redis."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import psutil

from tests.bot.conftest import REPO

SHARD_COUNT = 2
# One server in each shard: Discord puts a server in shard (id >> 22) % SHARD_COUNT.
SERVER_OF_SHARD = {shard: (300_000_000_000 + shard) << 22 for shard in range(SHARD_COUNT)}
# A run's limit; the nap runs take about a second. A job unfinished rekick_after(4) = 12 s
# after its claim is re-kicked by the bot (bot/queue/broker.py).
WORKER_TIMEOUT_S = 4
REPLY_S = 20.0  # the longest a harness command may take, the explanations' waits aside


@dataclass(frozen=True)
class Services:
    """What every process shares: the database, Redis, the packs; and where logs go."""

    postgres_url: str
    redis_url: str
    packs: Path
    logs: Path

    def environment(self, **extra: str) -> dict[str, str]:
        return {**os.environ, "DATABASE_URL": self.postgres_url, "REDIS_URL": self.redis_url,
                "QUESTIONS_PATH": str(self.packs), "EXPLAIN_BACKEND": "queue",
                "WORKER_SIZE": "test", "WORKER_TIMEOUT_S": str(WORKER_TIMEOUT_S),
                "LOG_LEVEL": "INFO", **extra}


def log_file(path: Path) -> IO[str]:
    """A process's stderr (opened here, outside the event loop's coroutines)."""
    return path.open("w")


class BotProcess:
    """One bot process and its JSON-lines conversation: `ask` sends a command and returns
    its answer; events (leadership changes, the exit) are kept in order."""

    def __init__(self, shard: int, process: asyncio.subprocess.Process, logs: Path) -> None:
        self.shard, self.process, self.logs = shard, process, logs
        self.server = SERVER_OF_SHARD[shard]
        self.events: list[dict[str, Any]] = []
        self._answers: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._news = asyncio.Event()
        self._next_id = 0
        self._reading = asyncio.create_task(self._read())

    @classmethod
    async def start(cls, shard: int, services: Services) -> BotProcess:
        servers = json.dumps([[guild, f"shard{s}"] for s, guild in SERVER_OF_SHARD.items()])
        logs = services.logs / f"bot{shard}.log"
        with log_file(logs) as stderr:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "tests.multiprocess.bot_process", cwd=REPO,
                env=services.environment(SHARD_COUNT=str(SHARD_COUNT), SHARD_IDS=str(shard),
                                         TUTORBOT_MP_SERVERS=servers),
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=stderr,
                limit=1 << 20)
        return cls(shard, process, logs)

    def log(self) -> str:
        """What it has logged so far."""
        return self.logs.read_text()

    async def _read(self) -> None:
        assert self.process.stdout is not None
        async for line in self.process.stdout:
            message = json.loads(line)
            answer = self._answers.pop(message.pop("id", -1), None)
            if answer is not None:
                answer.set_result(message)
            else:
                self.events.append(message)
                self._news.set()
        self._news.set()  # the process has gone

    async def event(self, kind: str, within_s: float, **matching: Any) -> dict[str, Any]:
        """The first event of this kind (with these values), waiting for it if need be."""
        deadline = time.monotonic() + within_s
        while True:
            for event in self.events:
                if event.get("event") == kind and all(event.get(k) == v
                                                      for k, v in matching.items()):
                    return event
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"bot {self.shard}: no {kind} event {matching} in {within_s} s"
            assert not self._reading.done(), f"bot {self.shard} exited before a {kind} event"
            self._news.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._news.wait(), remaining)

    async def ask(self, command: str, within_s: float = REPLY_S, **args: Any) -> dict[str, Any]:
        assert self.process.stdin is not None
        self._next_id += 1
        answer = self._answers[self._next_id] = asyncio.get_running_loop().create_future()
        self.process.stdin.write(json.dumps({"id": self._next_id, "cmd": command,
                                             **args}).encode() + b"\n")
        await self.process.stdin.drain()
        reply = await asyncio.wait_for(answer, within_s)
        assert "error" not in reply, f"bot {self.shard}: {command} failed: {reply['error']}"
        return reply

    async def explain(self, problem: str, member: int, within_s: float) -> dict[str, Any]:
        """/explain as a member of this process's own server (the shard it runs)."""
        return await self.ask("explain", within_s, guild=self.server, member=member,
                              problem=problem)

    async def status(self) -> dict[str, Any]:
        return await self.ask("status")

    async def posts(self, guild: int) -> list[dict[str, Any]]:
        return (await self.ask("posts", guild=guild))["posts"]

    async def stop(self) -> int:
        """SIGTERM, as a deployment stops a process; its exit status."""
        self.process.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.process.wait(), REPLY_S)

    async def close(self) -> None:
        if self.process.returncode is None:
            self.process.kill()
            await self.process.wait()
        self._reading.cancel()
        await asyncio.gather(self._reading, return_exceptions=True)


class Worker:
    """A `tutorbot worker` process; `id` is what the job rows name it."""

    def __init__(self, name: str, process: asyncio.subprocess.Process) -> None:
        self.name, self.process = name, process
        self.id = f"{socket.gethostname()}:{process.pid}"
        self.orphans: list[psutil.Process] = []  # its experiment children, once it is killed

    @classmethod
    async def start(cls, name: str, services: Services) -> Worker:
        with log_file(services.logs / f"{name}.log") as stderr:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "worker", cwd=REPO, env=services.environment(),
                stdout=asyncio.subprocess.DEVNULL, stderr=stderr)
        return cls(name, process)

    async def kill(self) -> None:
        """SIGKILL, mid-job. Its experiment child runs in its own session and outlives it:
        remembered, to be ended at close."""
        self.orphans = psutil.Process(self.process.pid).children(recursive=True)
        self.process.kill()
        await self.process.wait()

    async def close(self) -> None:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 10)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        for orphan in self.orphans:
            with contextlib.suppress(psutil.NoSuchProcess):
                orphan.kill()


@dataclass
class Cluster:
    services: Services
    bots: list[BotProcess]
    workers: list[Worker]

    def worker_of_id(self, worker_id: str | None) -> Worker:
        """The worker a job row names."""
        return next(w for w in self.workers if w.id == worker_id)

    def worker_of(self, pid: int) -> Worker:
        return next(w for w in self.workers if w.process.pid == pid)

    def worker_name(self, worker_id: str | None) -> str:
        return self.worker_of_id(worker_id).name

    async def leader(self) -> BotProcess:
        """The bot process that holds the schedule leader lock, once one does."""
        async def leading() -> BotProcess | None:
            for bot in self.bots:
                if any(e["event"] == "leading" and e["value"] for e in bot.events):
                    return bot
            return None
        return await until(leading, within_s=REPLY_S)


@contextlib.asynccontextmanager
async def running_cluster(services: Services) -> AsyncIterator[Cluster]:
    """Two workers and a bot process per shard, started side by side; all ended after."""
    bots: list[BotProcess] = []
    workers: list[Worker] = []
    try:
        workers = list(await asyncio.gather(Worker.start("worker0", services),
                                            Worker.start("worker1", services)))
        bots = list(await asyncio.gather(*(BotProcess.start(shard, services)
                                           for shard in range(SHARD_COUNT))))
        await asyncio.gather(*(bot.event("ready", within_s=60) for bot in bots))
        yield Cluster(services, bots, workers)
    finally:
        await asyncio.gather(*(bot.close() for bot in bots), return_exceptions=True)
        await asyncio.gather(*(worker.close() for worker in workers), return_exceptions=True)


async def until(check: Callable[[], Awaitable[Any]], within_s: float,
                every_s: float = 0.1) -> Any:
    """The first truthy value of check(), polled; fails after within_s."""
    deadline = time.monotonic() + within_s
    while True:
        value = await check()
        if value:
            return value
        assert time.monotonic() < deadline, f"not reached within {within_s} s"
        await asyncio.sleep(every_s)
