"""Runs an experiment script in a child process with a time and a memory limit.

The bot process never imports torch: it starts `python -m bot.worker.child` in its own
session (so the whole process group, grandchildren included, can be killed at once), reads
learner text from the child's stdout, a tail of stderr for errors, and progress, figures and
the result as JSON lines from a dedicated pipe.

Memory is watched by polling the resident size of the child's process tree: `RLIMIT_AS`
cannot be used because CUDA reserves far more address space than it touches.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import inspect
import json
import logging
import os
import signal
import sys
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[2]
LAB_DIR = Path(__file__).resolve().parent / "lab"
DEFAULT_CACHE_DIR = Path(".cache/tutorbot")
SIZES = ("test", "cpu", "full")
MAX_TEXT_BYTES = 64_000
STDERR_TAIL_BYTES = 4_000
MEMORY_POLL_S = 0.1

ProgressCallback = Callable[[int, int, str], Awaitable[None] | None]


@dataclass(frozen=True)
class Figure:
    name: str
    png: bytes


@dataclass(frozen=True)
class RunResult:
    text: str
    metrics: dict
    figures: tuple[Figure, ...]
    answer: str | None
    device: str
    duration_s: float


class ExperimentError(Exception):
    """An experiment did not produce a result; `message` is safe to show a learner."""

    def __init__(self, message: str, stderr_tail: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.stderr_tail = stderr_tail


class ExperimentTimeout(ExperimentError):
    pass


class ExperimentOutOfMemory(ExperimentError):
    pass


class ExperimentCrashed(ExperimentError):
    pass


class ExperimentRefused(ExperimentError):
    """The script is not one the runner may start; no child was started."""


def experiment_fingerprint(script: Path) -> str:
    """A cache key that changes whenever the script or the lab helpers change."""
    digest = hashlib.sha256(Path(script).read_bytes())
    for source in sorted(LAB_DIR.rglob("*.py")):
        digest.update(source.relative_to(LAB_DIR).as_posix().encode())
        digest.update(source.read_bytes())
    return digest.hexdigest()


@dataclass
class _Events:
    """What the child reported over the event pipe."""

    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    figures: list[Figure] = field(default_factory=list)
    over_memory: bool = False


async def run_experiment(
    script: Path,
    params: dict,
    *,
    size: str = "cpu",
    device: str | None = None,
    timeout_s: float = 120,
    memory_mb: int | None = 4096,
    on_progress: ProgressCallback | None = None,
    cache_dir: Path | None = None,
    python: str = sys.executable,
) -> RunResult:
    """Runs `script`'s `run(ctx)` in a child; raises an `ExperimentError` subclass on failure."""
    if size not in SIZES:
        raise ValueError(f"size must be one of {SIZES}, got {size!r}")
    script = _script_inside_its_pack(Path(script))
    read_fd, write_fd = os.pipe()
    job = _job(script, params, size, device, write_fd, cache_dir)
    started = time.monotonic()
    try:
        proc = await asyncio.create_subprocess_exec(
            python, "-m", "bot.worker.child", json.dumps(job),
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, pass_fds=(write_fd,), start_new_session=True,
            env=_child_env(), cwd=str(REPO_ROOT))
    except BaseException:
        os.close(read_fd)
        raise
    finally:
        os.close(write_fd)  # the child holds its own copy; ours would keep the pipe open
    log.info("experiment %s started (pid %d, size %s)", Path(script).name, proc.pid, size)
    return await _supervise(proc, read_fd, timeout_s, memory_mb, on_progress, started)


def _script_inside_its_pack(script: Path) -> Path:
    """The script's real path, refused when a link leads out of its pack folder.

    Scripts live at <pack>/experiments/<name>.py. The loader already refuses such links;
    this keeps any caller from running a file elsewhere on the machine. The real path goes
    to the child, so the link cannot be changed between this check and the run.
    """
    script = script.absolute()
    try:
        real = script.resolve()
    except (OSError, RuntimeError) as exc:  # a loop of links
        raise ExperimentRefused(f"The experiment script {script.name} cannot be found.") from exc
    if not real.is_relative_to(script.parent.parent.resolve()):
        log.warning("refused experiment %s: it resolves to %s", script, real)
        raise ExperimentRefused(f"The experiment script {script.name} lies outside its pack "
                                "folder and was not run.")
    return real


def _job(script: Path, params: dict, size: str, device: str | None, event_fd: int,
         cache_dir: Path | None) -> dict[str, Any]:
    """The child's instructions; paths made absolute because the child runs in the repo."""
    return {"script": str(Path(script).absolute()), "params": params, "size": size,
            "device": device, "event_fd": event_fd,
            "cache_dir": str(Path(cache_dir or DEFAULT_CACHE_DIR).absolute())}


async def _supervise(proc: asyncio.subprocess.Process, read_fd: int, timeout_s: float,
                     memory_mb: int | None, on_progress: ProgressCallback | None,
                     started: float) -> RunResult:
    events = _Events()
    tasks = [asyncio.create_task(_read_events(read_fd, events, on_progress)),
             asyncio.create_task(_read_head(proc.stdout, MAX_TEXT_BYTES)),
             asyncio.create_task(_read_tail(proc.stderr, STDERR_TAIL_BYTES))]
    watcher = asyncio.create_task(_watch_memory(proc.pid, memory_mb, events))
    timed_out = False
    try:
        await asyncio.wait_for(proc.wait(), timeout_s)
    except TimeoutError:
        timed_out = True
    finally:
        # Always: leftover grandchildren would otherwise outlive the run and hold the pipes.
        watcher.cancel()
        _kill_group(proc.pid)
        with contextlib.suppress(ProcessLookupError):
            await asyncio.shield(proc.wait())
    _, text, stderr_tail = await _finish_readers(tasks)
    duration = time.monotonic() - started
    _raise_for_failure(proc.returncode, events, timed_out, timeout_s, memory_mb, stderr_tail)
    assert events.result is not None
    return RunResult(text=text, metrics=dict(events.result.get("metrics", {})),
                     figures=tuple(events.figures), answer=events.result.get("answer"),
                     device=str(events.result.get("device", "cpu")), duration_s=duration)


async def _finish_readers(tasks: list[asyncio.Task]) -> list[Any]:
    done, pending = await asyncio.wait(tasks, timeout=5)
    for task in pending:  # a pipe still held open by an escaped process
        task.cancel()
    return [task.result() if task in done and not task.exception() else _empty(i)
            for i, task in enumerate(tasks)]


def _empty(index: int) -> Any:
    return None if index == 0 else ""


def _raise_for_failure(returncode: int | None, events: _Events, timed_out: bool,
                       timeout_s: float, memory_mb: int | None, stderr_tail: str) -> None:
    if events.over_memory:
        raise ExperimentOutOfMemory(f"The experiment used more than {memory_mb} MB of memory "
                                    "and was stopped.", stderr_tail)
    if timed_out:
        raise ExperimentTimeout(f"The experiment took longer than {timeout_s:g} s and was "
                                "stopped.", stderr_tail)
    if events.error is not None:
        kind = ExperimentOutOfMemory if events.error.get("kind") == "oom" else ExperimentCrashed
        what = "ran out of memory" if kind is ExperimentOutOfMemory else "failed"
        raise kind(f"The experiment {what}: {events.error.get('message', '')}"[:300],
                   stderr_tail)
    if returncode == -signal.SIGKILL:
        # Not killed by us: the kernel's OOM killer is by far the likeliest sender.
        raise ExperimentOutOfMemory("The experiment was killed by the system, probably for "
                                    "using too much memory.", stderr_tail)
    if events.result is None or returncode != 0:
        raise ExperimentCrashed(f"The experiment stopped without a result (exit code "
                                f"{returncode}).", stderr_tail)


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    path = env.get("PYTHONPATH")
    env["PYTHONPATH"] = str(REPO_ROOT) + (os.pathsep + path if path else "")
    # Deterministic cuBLAS must be configured before CUDA initialises in the child.
    env.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    env.setdefault("PYTHONHASHSEED", "0")
    env["MPLBACKEND"] = "Agg"
    env["PYTHONUNBUFFERED"] = "1"  # learner text up to a timeout is kept
    # Idle OpenMP threads sleep instead of spinning: on a busy machine spinning threads made
    # small training steps 20-25x slower in the pack authors' runs. Read when torch loads.
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    return env


async def _read_events(fd: int, events: _Events, on_progress: ProgressCallback | None) -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=32 * 1024 * 1024)  # figures arrive as one line each
    transport, _ = await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(fd, "rb", buffering=0))
    try:
        async for line in reader:
            await _handle_event(line, events, on_progress)
    finally:
        transport.close()


async def _handle_event(line: bytes, events: _Events,
                        on_progress: ProgressCallback | None) -> None:
    try:
        message = json.loads(line)
    except json.JSONDecodeError:
        log.warning("unreadable event line from experiment child")
        return
    kind = message.get("type")
    if kind == "progress" and on_progress is not None:
        await _call_progress(on_progress, message)
    elif kind == "figure":
        events.figures.append(Figure(str(message["name"]), base64.b64decode(message["png"])))
    elif kind == "result":
        events.result = message
    elif kind == "error":
        events.error = message


async def _call_progress(callback: ProgressCallback, message: dict[str, Any]) -> None:
    # A failing progress display (say, a Discord edit) must not fail the experiment.
    try:
        outcome = callback(int(message["step"]), int(message["total"]), str(message["label"]))
        if inspect.isawaitable(outcome):
            await outcome
    except Exception:
        log.exception("progress callback failed")


async def _read_head(stream: asyncio.StreamReader | None, limit: int) -> str:
    kept = bytearray()
    while stream is not None and (chunk := await stream.read(65536)):
        if len(kept) < limit:
            kept += chunk[: limit - len(kept)]
    text = kept.decode("utf-8", errors="replace")
    return text + ("\n… (output truncated)" if len(kept) >= limit else "")


async def _read_tail(stream: asyncio.StreamReader | None, limit: int) -> str:
    chunks: deque[bytes] = deque()
    size = 0
    while stream is not None and (chunk := await stream.read(65536)):
        chunks.append(chunk)
        size += len(chunk)
        while size - len(chunks[0]) >= limit:
            size -= len(chunks.popleft())
    return b"".join(chunks)[-limit:].decode("utf-8", errors="replace")


async def _watch_memory(pid: int, memory_mb: int | None, events: _Events) -> None:
    if memory_mb is None:
        return
    limit = memory_mb * 1024 * 1024
    while True:
        if _tree_rss(pid) > limit:
            log.warning("experiment pid %d over %d MB: killing its process group", pid, memory_mb)
            events.over_memory = True
            _kill_group(pid)
            return
        await asyncio.sleep(MEMORY_POLL_S)


def _tree_rss(pid: int) -> int:
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            total += proc.memory_info().rss
    return total


def _kill_group(pid: int) -> None:
    """SIGKILLs the child's session group, and any descendant that left it."""
    try:
        escaped = psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        escaped = []
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
    for proc in escaped:
        with contextlib.suppress(psutil.Error):
            proc.kill()
