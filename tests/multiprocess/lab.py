"""A pack of tiny experiments (no torch) for the multi-process test.

Every run appends "<problem> <pid of the worker that ran it>" to runs.log beside the script, so
the test can count the runs of each problem and tell which worker made them. `nap` runs
sleep about a second; the `stall` run sleeps long the first time (the worker is killed then)
and is quick the next.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

SCRIPT = """
    import os
    import time
    from pathlib import Path

    def run(ctx):
        here = Path(__file__).parent
        name = ctx.params["name"]
        with (here / "runs.log").open("a") as log:
            log.write(f"{name} {os.getppid()}\\n")
        marker = here / "stalled.marker"
        if ctx.params["mode"] == "stall" and not marker.exists():
            marker.touch()
            ctx.progress(1, 3, "stalling")
            time.sleep(60)
        time.sleep(float(ctx.params["nap"]))
        for step in range(1, 4):
            ctx.progress(step, 3, "step")
        print(f"{name} ran once")
        return {"answer": "B", "metrics": {"steps": 3}}
"""
# name: (mode, seconds of sleep)
PROBLEMS = {"alpha": ("nap", 1.0), "beta": ("nap", 1.0), "gamma": ("nap", 1.0),
            "stall": ("stall", 0.2)}
TIME_LIMIT_S = 10  # the shortest a pack may set: a challenge's reveal comes 10 s after it opens


def problem_yaml(name: str, mode: str, nap: float) -> str:
    return f"""\
  - id: mp-{name}
    kind: conceptual
    difficulty: intermediate
    title: The {name} experiment
    prompt: What does it print?
    choices: {{A: one, B: two, C: three}}
    answer: B
    hint: Think.
    explanation: Because.
    why_not: {{A: not one, C: not three}}
    time_limit: {TIME_LIMIT_S}
    experiment: {{script: lab.py, params: {{name: {name}, mode: {mode}, nap: {nap}}}}}
"""


def write_pack(root: Path) -> Path:
    """root/mp-lab/ with one problem per entry of PROBLEMS; returns root, a QUESTIONS_PATH."""
    pack = root / "mp-lab"
    (pack / "experiments").mkdir(parents=True)
    (pack / "experiments" / "lab.py").write_text(textwrap.dedent(SCRIPT))
    problems = "".join(problem_yaml(name, mode, nap) for name, (mode, nap) in PROBLEMS.items())
    (pack / "pack.yaml").write_text(f"id: mp-lab\ntitle: Multi-process lab\nbadge:\n"
                                    f"  name: Lab Hand\nproblems:\n{problems}")
    return root


def runs_of(root: Path) -> list[tuple[str, int]]:
    """(problem name, worker pid) of every run so far, in order."""
    log = root / "mp-lab" / "experiments" / "runs.log"
    if not log.exists():
        return []
    return [(name, int(pid)) for name, pid in (line.split() for line in log.read_text().split("\n")
                                                if line)]
