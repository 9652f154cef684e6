"""Runs the problem's code and prints what it prints: the number of batches and of samples.

The snippet is executed exactly as shown in the problem (the test checks the two texts are
identical), once per seed, and its output is matched to the choice with the same text.
"""

from __future__ import annotations

import contextlib
import io

import torch
from torch.utils.data import DataLoader, TensorDataset

from bot.worker.lab.env import seed_everything

CODE = """\
import torch
from torch.utils.data import DataLoader, TensorDataset

ds = TensorDataset(torch.randn(103, 4), torch.arange(103))
loader = DataLoader(ds, batch_size=10, shuffle=True, drop_last=True)
print(len(loader), sum(len(y) for x, y in loader))
"""

# The problem's choices; the derived answer is the letter whose text the code printed.
CHOICES = {"A": "11 103", "B": "10 100", "C": "10 103", "D": "11 100"}


def run_snippet(code: str) -> str:
    """Executes `code` in a fresh namespace and returns what it printed."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        exec(compile(code, "<problem code>", "exec"), {"__name__": "__problem__"})
    return buffer.getvalue().strip()


def decide(printed: list[str], choices: dict[str, str] = CHOICES) -> str:
    """The choice whose text every run printed; raises if the runs disagree or match none."""
    if len(set(printed)) != 1:
        raise RuntimeError(f"the runs printed different things: {printed}")
    answer = next((k for k, v in choices.items() if v == printed[0]), None)
    if answer is None:
        raise RuntimeError(f"printed {printed[0]!r}, which matches no choice")
    return answer


def batch_sizes(drop_last: bool) -> list[int]:
    ds = TensorDataset(torch.randn(103, 4), torch.arange(103))
    return [len(y) for _, y in DataLoader(ds, batch_size=10, shuffle=True, drop_last=drop_last)]


def dropped_per_epoch(epochs: int = 2) -> list[list[int]]:
    """Which sample indices drop_last=True left out, epoch by epoch."""
    ds = TensorDataset(torch.randn(103, 4), torch.arange(103))
    loader = DataLoader(ds, batch_size=10, shuffle=True, drop_last=True)
    seen = [set(torch.cat([y for _, y in loader]).tolist()) for _ in range(epochs)]
    return [sorted(set(range(103)) - s) for s in seen]


def run(ctx):
    choices = ctx.params.get("choices", CHOICES)
    printed = []
    for index, seed in enumerate(ctx.seeds):
        seed_everything(seed)  # changes the shuffle order, which cannot change the counts
        printed.append(run_snippet(CODE))
        ctx.log(f"seed {seed}, the snippet prints: {printed[-1]}")
        ctx.progress(index + 1, len(ctx.seeds), f"seed {seed}")
    kept, full = batch_sizes(True), batch_sizes(False)
    dropped = dropped_per_epoch()
    answer = decide(printed, choices)
    ctx.log(f"\nSame output in {len(ctx.seeds)} of {len(ctx.seeds)} seeds.")
    ctx.log(f"Batch sizes with drop_last=True:  {kept} ({len(kept)} batches, "
            f"{sum(kept)} samples)")
    ctx.log(f"Batch sizes with drop_last=False: {full} ({len(full)} batches, "
            f"{sum(full)} samples)")
    ctx.log(f"Indices left out by drop_last=True: epoch 1 {dropped[0]}, epoch 2 {dropped[1]}")
    ctx.log(f"\nWhy: 103 samples in batches of 10 make {len(full) - 1} full batches and one of "
            f"{full[-1]}. drop_last=True discards that short batch, so len(loader) is "
            f"103 // 10 = {len(kept)} and one epoch yields {sum(kept)} samples. With "
            "shuffle=True a new order is drawn each epoch, so the samples left out "
            + ("changed between the two epochs above: the same samples are not skipped every epoch."
               if dropped[0] != dropped[1] else "happened to be the same in both epochs here."))
    return {"answer": answer, "metrics": {
        "printed": printed[0], "batches_drop_last": len(kept), "samples_drop_last": sum(kept),
        "batches_keep_last": len(full), "last_batch_keep_last": full[-1],
        "dropped_changed_between_epochs": int(dropped[0] != dropped[1]),
        "seeds": len(ctx.seeds)}}
