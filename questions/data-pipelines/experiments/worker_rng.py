"""Runs the problem's code and prints what it prints: random numbers drawn in two workers.

The snippet is executed exactly as shown in the problem (the test checks the two texts are
identical) once per seed; each run starts two worker processes, which is what the problem is
about (about a tenth of a second each run). Then the fix: reseed each worker's copy of the
generator from the per-worker seed DataLoader hands out.
"""

from __future__ import annotations

import contextlib
import io

import numpy as np
from torch.utils.data import DataLoader, Dataset, get_worker_info

from bot.worker.lab.env import seed_everything

CODE = """\
import numpy as np
from torch.utils.data import DataLoader, Dataset

class Noisy(Dataset):
    def __init__(self):
        self.rng = np.random.default_rng(0)

    def __len__(self):
        return 4

    def __getitem__(self, i):
        return int(self.rng.integers(0, 100))

loader = DataLoader(Noisy(), batch_size=1, num_workers=2)
print([batch.item() for batch in loader])
"""

# The problem's choices. A-C are printed lists; D is the claim that runs differ.
CHOICES = {"A": "[85, 63, 51, 26]", "B": "[85, 85, 63, 63]", "C": "[85, 63, 85, 63]",
           "D": "different on every run"}
VARIES = "D"  # the choice that says the output changes from run to run


def run_snippet(code: str) -> str:
    """Executes `code` in a fresh namespace and returns what it printed."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        exec(compile(code, "<problem code>", "exec"), {"__name__": "__problem__"})
    return buffer.getvalue().strip()


def decide(printed: list[str], choices: dict[str, str] = CHOICES, varies: str = VARIES) -> str:
    """`varies` if the runs printed different lists, else the choice with the printed text."""
    if len(set(printed)) > 1:
        return varies
    answer = next((k for k, v in choices.items() if v == printed[0]), None)
    if answer is None:
        raise RuntimeError(f"printed {printed[0]!r}, which matches no choice")
    return answer


class Noisy(Dataset):
    """The snippet's dataset, for the comparisons below."""

    def __init__(self):
        self.rng = np.random.default_rng(0)

    def __len__(self):
        return 4

    def __getitem__(self, i):
        return int(self.rng.integers(0, 100))


class WhoServed(Noisy):
    """The snippet's dataset, also saying which worker produced each item."""

    def __getitem__(self, i):
        return get_worker_info().id, super().__getitem__(i)


def reseed_copy(worker_id: int) -> None:
    """The fix: each worker replaces its copy of the generator, seeded per worker."""
    info = get_worker_info()
    info.dataset.rng = np.random.default_rng(info.seed)


def run(ctx):
    choices = ctx.params.get("choices", CHOICES)
    printed = []
    for index, seed in enumerate(ctx.seeds):
        seed_everything(seed)  # changes the base seed DataLoader gives its workers
        printed.append(run_snippet(CODE))
        ctx.log(f"seed {seed}, the snippet prints: {printed[-1]}")
        ctx.progress(index + 1, len(ctx.seeds), f"seed {seed}")
    answer = decide(printed, choices)
    same = sum(p == printed[0] for p in printed)
    one_stream = [int(v) for v in np.random.default_rng(0).integers(0, 100, 4)]
    in_process = [b.item() for b in DataLoader(Noisy(), batch_size=1, num_workers=0)]
    served = [(int(w), int(v)) for w, v in DataLoader(WhoServed(), batch_size=None,
                                                      num_workers=2)]
    seed_everything(ctx.seeds[0])
    loader = DataLoader(Noisy(), batch_size=1, num_workers=2, worker_init_fn=reseed_copy)
    fixed = [[b.item() for b in loader]]
    ctx.log(f"\nThe same list in {same} of {len(ctx.seeds)} seeds.")
    ctx.log(f"One generator drawing 4 numbers: {one_stream}; the snippet with num_workers=0: "
            f"{in_process}")
    ctx.log(f"With worker_init_fn reseeding each worker's copy from get_worker_info().seed: "
            f"{fixed[0]} (seed {ctx.seeds[0]})")
    ctx.log("Which worker produced each item (worker, value): "
            + ", ".join(f"({w}, {v})" for w, v in served))
    workers = [w for w, _ in served]
    values = [v for _, v in served]
    if values[0::2] == values[1::2]:
        ctx.log("\nWhy: each worker process gets its own copy of the dataset object, generator "
                "state included, so both copies start from default_rng(0). Batches go to the "
                f"workers in turn (workers {workers} above), and each copy draws the same "
                f"sequence {values[0::2]}, so every number comes twice. DataLoader does seed "
                "each worker's torch, random and np.random global state (general knowledge: "
                "see the torch.utils.data docs), but a generator object you created yourself "
                "is just copied. Reseeding it per worker, as above, gives different numbers.")
    else:
        ctx.log(f"\nThe two workers drew different numbers here ({values}): their copies of "
                "the generator did not start from the same state in this run.")
    return {"answer": answer, "metrics": {
        "printed": printed[0], "same_across_seeds": same, "one_stream": str(one_stream),
        "fixed": str(fixed[0]), "seeds": len(ctx.seeds)}}
