"""Runs several experiment scripts in one child process, so torch starts once for all of them.

For `questions verify`, where torch's start-up costs more than a small experiment. Each script
keeps its own time limit, counted from the child's `start` event for it (the child's start-up
has a limit of the same length); the memory limit is the child's, over its process tree. A
script that raises is reported and the child runs the next one. One the child cannot survive
(a timeout, the memory limit, a crash of the process) is reported against that script, and a
fresh child runs the scripts after it. A script stopped for memory in a child that ran others
before it runs again, first in a fresh child, so memory an earlier script left behind is never
blamed on it.

Batch results keep no learner text and no figures: `verify` needs the derived answer only.
The bot's own explanation runs stay one child per run (`runner.run_experiment`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.worker.runner import (
    REPO_ROOT,
    SIZES,
    ExperimentError,
    ExperimentRefused,
    RunResult,
    _child_env,
    _Events,
    _job,
    _kill_group,
    _raise_for_failure,
    _read_tail,
    _script_inside_its_pack,
    _watch_memory,
)

log = logging.getLogger(__name__)

STDERR_TAIL_BYTES = 4_000
Outcome = RunResult | ExperimentError


@dataclass(frozen=True)
class BatchItem:
    script: Path
    params: dict[str, Any]


async def run_batch(
    items: list[BatchItem],
    *,
    size: str = "test",
    device: str | None = None,
    timeout_s: float = 120,
    memory_mb: int | None = 4096,
    cache_dir: Path | None = None,
    python: str = sys.executable,
    threads: int | None = None,
) -> AsyncIterator[tuple[int, Outcome]]:
    """Yields (index into items, result or error) once for every item: scripts refused
    before any child starts first, then the others in order, each as it finishes.

    `threads` caps each child's torch CPU threads (None: the child's own default)."""
    if size not in SIZES:
        raise ValueError(f"size must be one of {SIZES}, got {size!r}")
    runnable: list[tuple[int, Path, dict[str, Any]]] = []
    for index, item in enumerate(items):
        try:
            runnable.append((index, _script_inside_its_pack(Path(item.script)), item.params))
        except ExperimentRefused as exc:
            yield index, exc
    while runnable:
        child = _Child(runnable, size, device, timeout_s, memory_mb, cache_dir, python, threads)
        async for position, outcome in child.run():
            yield runnable[position][0], outcome
        runnable = runnable[child.settled:]


class _Child:
    """One child process running `scripts` in turn until they are done or it is stopped."""

    def __init__(self, scripts: list[tuple[int, Path, dict[str, Any]]], size: str,
                 device: str | None, timeout_s: float, memory_mb: int | None,
                 cache_dir: Path | None, python: str, threads: int | None = None) -> None:
        self.scripts, self.timeout_s, self.memory_mb = scripts, timeout_s, memory_mb
        self.size, self.device, self.cache_dir, self.python = size, device, cache_dir, python
        self.threads = threads
        self.settled = 0  # scripts reported so far; the next child starts after them
        self.events = _Events()
        self.timed_out = False

    async def run(self) -> AsyncIterator[tuple[int, Outcome]]:
        read_fd, write_fd = os.pipe()
        try:
            proc = await self._spawn(write_fd)
        except BaseException:
            os.close(read_fd)
            raise
        finally:
            os.close(write_fd)
        stderr = asyncio.create_task(_read_tail(proc.stderr, STDERR_TAIL_BYTES))
        drain = asyncio.create_task(_drain(proc.stdout))
        watcher = asyncio.create_task(_watch_memory(proc.pid, self.memory_mb, self.events))
        try:
            async for item in self._follow(read_fd, proc):
                yield item
        finally:
            watcher.cancel()
            _kill_group(proc.pid)
            with contextlib.suppress(ProcessLookupError):
                await asyncio.shield(proc.wait())
            await asyncio.wait([stderr, drain], timeout=5)
        if self.settled == len(self.scripts):
            return
        if self.events.over_memory and self.settled > 0:
            return  # maybe not this script's doing: the next child runs it first
        yield self.settled, self._failure(proc.returncode, stderr)
        self.settled += 1

    async def _spawn(self, write_fd: int) -> asyncio.subprocess.Process:
        job = _job(self.scripts[0][1], {}, self.size, self.device, write_fd, self.cache_dir)
        job["experiments"] = [{"script": str(script), "params": params}
                              for _, script, params in self.scripts]
        job["threads"] = self.threads
        proc = await asyncio.create_subprocess_exec(
            self.python, "-m", "bot.worker.child", json.dumps(job),
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, pass_fds=(write_fd,), start_new_session=True,
            env=_child_env(), cwd=str(REPO_ROOT))
        log.info("batch of %d experiments started (pid %d, size %s)", len(self.scripts),
                 proc.pid, self.size)
        return proc

    async def _follow(self, read_fd: int,
                      proc: asyncio.subprocess.Process) -> AsyncIterator[tuple[int, Outcome]]:
        """Reads the child's events until it exits or the running script runs out of time."""
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=32 * 1024 * 1024)  # figures arrive as one line
        transport, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(read_fd, "rb", buffering=0))
        started = time.monotonic()
        try:
            while True:
                left = started + self.timeout_s - time.monotonic()
                try:
                    line = await asyncio.wait_for(reader.readline(), max(left, 0))
                except TimeoutError:
                    self.timed_out = True
                    return
                if not line:
                    return  # the child exited, or was killed for memory
                message = _parse(line)
                if message.get("type") == "start":
                    started = time.monotonic()
                elif message.get("type") in ("result", "error"):
                    yield self.settled, self._outcome(message, time.monotonic() - started)
                    self.settled += 1
        finally:
            transport.close()

    def _outcome(self, message: dict[str, Any], duration_s: float) -> Outcome:
        if message["type"] == "error":
            events = _Events(error=message)
            try:
                _raise_for_failure(0, events, False, self.timeout_s, self.memory_mb, "")
            except ExperimentError as exc:
                return exc
        return RunResult(text="", metrics=dict(message.get("metrics", {})), figures=(),
                         answer=message.get("answer"),
                         device=str(message.get("device", "cpu")), duration_s=duration_s)

    def _failure(self, returncode: int | None, stderr: asyncio.Task[str]) -> ExperimentError:
        tail = stderr.result() if stderr.done() and not stderr.exception() else ""
        try:
            _raise_for_failure(returncode, self.events, self.timed_out,
                               self.timeout_s, self.memory_mb, tail)
        except ExperimentError as exc:
            return exc
        return ExperimentError("The experiment stopped without a result.", tail)


async def _drain(stream: asyncio.StreamReader | None) -> None:
    """Learner text is not kept in a batch, but a full pipe would stall the child."""
    while stream is not None and await stream.read(65536):
        pass


def _parse(line: bytes) -> dict[str, Any]:
    try:
        message = json.loads(line)
    except json.JSONDecodeError:
        log.warning("unreadable event line from experiment child")
        return {}
    return message if isinstance(message, dict) else {}
