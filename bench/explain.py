"""Each experiment's duration and derived answer, on CPU (and CUDA when present).

    python bench/explain.py [--size test|cpu|full] [--only speedup,overfitting] [--fresh-cache]

Then, as the bot runs them: the bot process's memory before and after explanation runs
(the runs are child processes; this process never imports torch), and the latency of an
answer served from the explanation cache.

Runs every script in questions/pretrained-models/experiments/ through the real runner (child
process, limits and all) and prints one line per experiment. `--fresh-cache` pretrains the
stand-in models again in a temporary folder, so the first line includes that one-off cost.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.worker.runner import ExperimentError, run_experiment  # noqa: E402

EXPERIMENTS = Path(__file__).resolve().parents[1] / "questions/pretrained-models/experiments"


def cuda_available() -> bool:
    import subprocess

    probe = "import torch; print(torch.cuda.is_available())"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    return out.stdout.strip() == "True"


async def bench(scripts: list[Path], size: str, device: str, cache_dir: Path,
                verbose: bool) -> float:
    total = 0.0
    for script in scripts:
        try:
            result = await run_experiment(script, {}, size=size, device=device,
                                          cache_dir=cache_dir, timeout_s=600)
        except ExperimentError as exc:
            print(f"{device:5} {size:5} {script.stem:18} FAILED: {exc.message}", flush=True)
            continue
        total += result.duration_s
        print(f"{device:5} {size:5} {script.stem:18} {result.duration_s:6.1f} s  "
              f"answer {result.answer}  {result.metrics}", flush=True)
        if verbose:
            print(result.text)
    return total


def rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


async def through_the_bot(size: str, cache_dir: Path, folder: Path, hits: int) -> None:
    """The Explainer as the cog uses it: memory around real runs, then cache-hit latency."""
    from bot.app import create_bot  # noqa: F401 - the bot's imports, for a fair RSS figure
    from bot.bank import load_bank
    from bot.core.rules import CoreRules
    from bot.store import Store
    from bot.worker.backend import ThreadBackend
    from bot.worker.explainer import Explainer, Limits

    bank = load_bank(EXPERIMENTS.parents[1])
    store = await Store.open(folder / "explain.db", CoreRules.for_bank(bank))
    backend = ThreadBackend()
    explainer = Explainer(store.explanations, bank, backend, size=size, cache_dir=cache_dir,
                          limits=Limits(per_member=100, per_guild=100))
    problems = [p for p in bank.problems.values() if p.experiment]
    before = rss_mb()
    for problem in problems:
        await explainer.explain(problem, member_id=1, guild_id=1)
    after = rss_mb()
    print(f"bot process RSS: {before:.1f} MB before explanation runs, {after:.1f} MB after "
          f"{len(problems)} runs; torch imported here: {'torch' in sys.modules}")
    latencies = []
    for n in range(hits):
        started = time.perf_counter()
        result = await explainer.explain(problems[n % len(problems)], member_id=1, guild_id=1)
        latencies.append((time.perf_counter() - started) * 1000)
        assert result.cached
    latencies.sort()
    print(f"cache hit (explanation with its PNGs from SQLite): p50 "
          f"{latencies[len(latencies) // 2]:.2f} ms, p99 {latencies[int(len(latencies) * .99)]:.2f}"
          f" ms over {hits} hits (target < 20 ms)")
    backend.close()
    await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="cpu", choices=("test", "cpu", "full"))
    parser.add_argument("--only", default="", help="comma-separated script names")
    parser.add_argument("--fresh-cache", action="store_true")
    parser.add_argument("--verbose", action="store_true", help="also print the learner text")
    args = parser.parse_args()
    scripts = sorted(EXPERIMENTS.glob("*.py"))
    if args.only:
        scripts = [s for s in scripts if s.stem in args.only.split(",")]
    devices = ["cpu"] + (["cuda"] if cuda_available() else [])
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) if args.fresh_cache else Path(".cache/tutorbot")
        for device in devices:
            size = args.size if device == "cuda" or args.size != "full" else "cpu"
            started = time.monotonic()
            total = asyncio.run(bench(scripts, size, device, cache, args.verbose))
            print(f"{device}: experiments {total:.1f} s, wall {time.monotonic() - started:.1f} s")
        asyncio.run(through_the_bot(args.size if args.size != "full" else "cpu", cache,
                                    Path(tmp), hits=500))


if __name__ == "__main__":
    main()
