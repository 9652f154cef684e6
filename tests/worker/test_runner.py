"""The child-process runner: results, progress, limits and failures, with fake scripts."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from bot.worker.runner import (
    ExperimentCrashed,
    ExperimentOutOfMemory,
    ExperimentRefused,
    ExperimentTimeout,
    experiment_fingerprint,
    run_experiment,
)

OK_SCRIPT = """
    import matplotlib.pyplot as plt

    def run(ctx):
        for epoch in range(1, 4):
            ctx.progress(epoch, 3, f"epoch {epoch} of 3")
        print("printed text")
        ctx.log(f"size={ctx.size} device={ctx.device} seeds={ctx.seeds} p={ctx.params['p']}")
        fig, ax = plt.subplots()
        ax.plot([0, 1], [0, 1])
        ctx.figure("line", fig)
        return {"answer": "B", "metrics": {"accuracy": 0.5, "steps": 3, "note": "x"}}
"""


async def test_result_carries_text_metrics_figures_and_answer(write_script):
    result = await run_experiment(write_script(OK_SCRIPT), {"p": 7}, size="test", device="cpu")
    assert result.answer == "B"
    assert result.metrics == {"accuracy": 0.5, "steps": 3, "note": "x"}
    assert "printed text" in result.text
    assert "size=test device=cpu seeds=[0, 1, 2] p=7" in result.text
    assert [f.name for f in result.figures] == ["line"]
    assert result.figures[0].png.startswith(b"\x89PNG")
    assert result.device == "cpu" and result.duration_s > 0


async def test_progress_callbacks_arrive_in_order_sync_or_async(write_script):
    seen: list[tuple[int, int, str]] = []

    async def on_progress(step: int, total: int, label: str) -> None:
        seen.append((step, total, label))

    await run_experiment(write_script(OK_SCRIPT), {"p": 1}, device="cpu",
                         on_progress=on_progress)
    assert seen[0] == (1, 3, "epoch 1 of 3") and seen[-1] == (3, 3, "epoch 3 of 3")
    plain: list[int] = []
    await run_experiment(write_script(OK_SCRIPT), {"p": 1}, device="cpu",
                         on_progress=lambda step, total, label: plain.append(step))
    assert plain[-1] == 3


async def test_timeout_kills_child_and_grandchild(write_script, tmp_path: Path):
    pid_file = tmp_path / "grandchild.pid"
    script = write_script(f"""
        import subprocess, time
        def run(ctx):
            sleeper = subprocess.Popen(["sleep", "60"])
            open({str(pid_file)!r}, "w").write(str(sleeper.pid))
            time.sleep(60)
    """)
    started = time.monotonic()
    with pytest.raises(ExperimentTimeout):
        await run_experiment(script, {}, device="cpu", timeout_s=2)
    assert time.monotonic() - started < 10
    assert not _alive(int(pid_file.read_text()))


def _alive(pid: int) -> bool:
    """False once the process is gone or only a zombie waiting to be reaped."""
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return False
        except psutil.NoSuchProcess:
            return False
        time.sleep(0.05)
    return True


async def test_memory_limit_stops_a_script_that_allocates_too_much(write_script):
    script = write_script("""
        import time
        def run(ctx):
            hog = [bytearray(50 * 2**20) for _ in range(40)]  # 2 GB, touched as it is made
            time.sleep(30)
            return {"answer": "A", "metrics": {"n": len(hog)}}
    """)
    with pytest.raises(ExperimentOutOfMemory) as caught:
        await run_experiment(script, {}, device="cpu", memory_mb=300, timeout_s=30)
    assert "300 MB" in caught.value.message


async def test_memory_error_inside_the_child_is_out_of_memory(write_script):
    script = write_script("""
        def run(ctx):
            raise MemoryError("cannot allocate")
    """)
    with pytest.raises(ExperimentOutOfMemory):
        await run_experiment(script, {}, device="cpu")


async def test_crash_gives_a_safe_message_and_the_stderr_tail(write_script):
    script = write_script("""
        import sys
        def run(ctx):
            print("some diagnostics", file=sys.stderr)
            raise ValueError("bad shape")
    """)
    with pytest.raises(ExperimentCrashed) as caught:
        await run_experiment(script, {}, device="cpu")
    assert "ValueError: bad shape" in caught.value.message
    assert "some diagnostics" in caught.value.stderr_tail
    assert "Traceback" in caught.value.stderr_tail


async def test_a_result_without_an_answer_letter_is_a_crash(write_script):
    script = write_script("""
        def run(ctx):
            return {"answer": "F", "metrics": {}}
    """)
    with pytest.raises(ExperimentCrashed):
        await run_experiment(script, {}, device="cpu")


def test_fingerprint_follows_the_script_source(write_script):
    script = write_script("def run(ctx):\n    return {'answer': 'A'}\n")
    first = experiment_fingerprint(script)
    assert experiment_fingerprint(script) == first
    script.write_text(script.read_text() + "# changed\n")
    assert experiment_fingerprint(script) != first


def test_the_bot_side_modules_never_import_torch():
    probe = ("import sys, bot.worker, bot.worker.runner, bot.worker.verify; "
             "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parents[2], check=True)
    assert out.stdout.strip() == "False"


async def test_a_script_linked_from_outside_its_pack_is_refused_before_any_child(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    outside = tmp_path / "outside.py"
    outside.write_text("def run(ctx):\n    return {'answer': 'A', 'metrics': {}}\n")
    script = tmp_path / "packs" / "demo" / "experiments" / "linked.py"
    script.parent.mkdir(parents=True)
    script.symlink_to(outside)

    async def no_child(*args: object, **kwargs: object) -> None:
        raise AssertionError("a child process was started")

    monkeypatch.setattr(asyncio, "create_subprocess_exec", no_child)
    with pytest.raises(ExperimentRefused, match="outside its pack folder"):
        await run_experiment(script, {}, device="cpu")
