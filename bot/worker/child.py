"""Child entry point: `python -m bot.worker.child JOB_JSON`, started by `runner` or `batch`.

Runs one experiment script's `run(ctx)`. What the learner reads goes to stdout; progress,
figures and the result go as JSON lines to the event file descriptor the runner passed in,
so learner text and machine messages never mix.

A batch job (`batch`) runs several scripts one after another in this one process, so torch
is imported once: each script's events carry its index, a `start` event opens each, and a
script that raises is reported (its result or error follows its `start`) while the next one
still runs.
"""

from __future__ import annotations

import base64
import gc
import importlib.util
import io
import json
import os
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, TextIO

from bot.bank.model import CHOICE_LETTERS

ANSWERS = frozenset(CHOICE_LETTERS)
EXIT_CRASH, EXIT_OOM = 1, 3


@dataclass
class Context:
    """What an experiment's `run(ctx)` gets; see the contract in `runner`."""

    params: dict[str, Any]
    size: str
    device: str
    seeds: list[int]
    cache_dir: Path
    events: TextIO = field(repr=False)
    _last_progress: float = field(default=0.0, repr=False)

    def progress(self, step: int, total: int, label: str = "") -> None:
        # Throttled: a fast loop must not flood the bot with message edits.
        now = time.monotonic()
        if step < total and now - self._last_progress < 0.2:
            return
        self._last_progress = now
        emit(self.events, {"type": "progress", "step": int(step), "total": int(total),
                           "label": str(label)})

    def log(self, text: str = "") -> None:
        print(text, flush=True)

    def figure(self, name: str, fig: Any) -> None:
        import matplotlib.pyplot as plt

        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
        plt.close(fig)
        emit(self.events, {"type": "figure", "name": name,
                           "png": base64.b64encode(buffer.getvalue()).decode("ascii")})


def emit(events: TextIO, message: dict[str, Any]) -> None:
    events.write(json.dumps(message) + "\n")
    events.flush()


def resolve_device(requested: str | None) -> str:
    if requested:
        return requested
    import torch  # only here: scripts that never need torch start fast with an explicit device

    return "cuda" if torch.cuda.is_available() else "cpu"


def load_script(path: Path) -> ModuleType:
    # Named by pack and file: two packs may both have, say, zero_grad.py in one batch child.
    pack = "".join(c if c.isalnum() else "_" for c in path.parent.parent.name)
    spec = importlib.util.spec_from_file_location(f"experiment_{pack}_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses and pickling look modules up by name
    spec.loader.exec_module(module)
    return module


def is_out_of_memory(exc: BaseException) -> bool:
    if isinstance(exc, MemoryError):
        return True
    torch = sys.modules.get("torch")
    oom = getattr(torch, "OutOfMemoryError", None) if torch else None
    if oom is not None and isinstance(exc, oom):
        return True
    # CPU allocations that fail inside ATen surface as RuntimeError with this wording.
    return isinstance(exc, RuntimeError) and "DefaultCPUAllocator: can't allocate" in str(exc)


def check_result(result: Any) -> dict[str, Any]:
    if not isinstance(result, dict) or result.get("answer") not in ANSWERS:
        raise ValueError(f"run() must return {{'answer': 'A'..'D', 'metrics': {{...}}}}, "
                         f"got {result!r:.200}")
    metrics = result.get("metrics", {})
    if not isinstance(metrics, dict):
        raise ValueError("metrics must be a dict")
    return {"answer": result["answer"], "metrics": {str(k): _plain(v) for k, v in metrics.items()}}


def _plain(value: Any) -> float | int | str:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float | str):
        return value
    try:
        return float(value)  # numpy and 0-d torch scalars
    except (TypeError, ValueError):
        return str(value)


def run_job(job: dict[str, Any], events: TextIO) -> int:
    device = resolve_device(job.get("device"))
    module = load_script(Path(job["script"]))
    if "torch" in sys.modules:
        from bot.worker.lab.env import configure

        configure(device, job.get("threads"))
    ctx = Context(params=dict(job.get("params") or {}), size=job.get("size", "cpu"),
                  device=device, seeds=list(job.get("seeds") or [0, 1, 2]),
                  cache_dir=Path(job["cache_dir"]), events=events)
    result = check_result(module.run(ctx))
    sys.stdout.flush()
    emit(events, {"type": "result", "device": device, **result})
    return 0


def run_batch(job: dict[str, Any], events: TextIO) -> int:
    """Runs each of job["experiments"] in turn; a failure is reported and the next one runs."""
    resolve_device(job.get("device"))  # imports torch once, before the first clock starts
    for index, experiment in enumerate(job["experiments"]):
        emit(events, {"type": "start", "index": index})
        try:
            run_job({**job, **experiment}, events)
        except Exception as exc:  # reported against this script alone; the next one runs
            report_failure(exc, events)
        _release_memory()
    return 0


def _release_memory() -> None:
    """What one script leaves behind (figures, cycles) must not count against the next."""
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None:
        plt.close("all")
    gc.collect()


def report_failure(exc: BaseException, events: TextIO) -> int:
    traceback.print_exc()
    sys.stderr.flush()
    kind = "oom" if is_out_of_memory(exc) else "crash"
    emit(events, {"type": "error", "kind": kind,
                  "message": f"{type(exc).__name__}: {exc}"[:500]})
    return EXIT_OOM if kind == "oom" else EXIT_CRASH


def main(argv: list[str]) -> int:
    job = json.loads(argv[1])
    events = os.fdopen(int(job["event_fd"]), "w", buffering=1, encoding="utf-8")
    try:
        return run_batch(job, events) if "experiments" in job else run_job(job, events)
    except BaseException as exc:  # noqa: BLE001 - every failure must reach the runner typed
        return report_failure(exc, events)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
