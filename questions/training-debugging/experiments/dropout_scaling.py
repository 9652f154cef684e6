"""Runs the problem's own code (nn.Dropout in train mode, then in eval mode) and prints it.

Then the same module over each seed: the fraction of zeros, the kept value and the mean, to
show why the kept values are 2.0: inverted dropout keeps the expected output equal to the input.
"""

from __future__ import annotations

import contextlib
import io

import torch
from torch import nn

from bot.worker.lab.env import seed_everything

# The problem's code, exactly as shown; run with exec so the two cannot drift apart.
SNIPPET = """\
import torch
from torch import nn

torch.manual_seed(0)
drop = nn.Dropout(p=0.5)
x = torch.ones(1000)
print(drop(x).unique().tolist(), drop.eval()(x).unique().tolist())
"""
CHOICES = {"A": "[0.0, 1.0] [1.0]", "B": "[0.0, 2.0] [0.5]", "C": "[1.0] [1.0]",
           "D": "[0.0, 2.0] [1.0]"}


def run_snippet(code: str = SNIPPET) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "<problem code>", "exec"), {"__name__": "problem_code"})  # noqa: S102
    return out.getvalue().strip()


def decide(printed: str, choices: dict[str, str] = CHOICES) -> str:
    """The letter whose text is what the code printed."""
    for letter, text in choices.items():
        if printed.strip() == text:
            return letter
    raise ValueError(f"the code printed {printed!r}, which matches no choice")


def run(ctx):
    choices = ctx.params.get("choices", CHOICES)
    printed = run_snippet()
    ctx.log(f"The problem's code prints: {printed}")
    fresh_mode = nn.Dropout(p=0.5).training
    rows = []
    for index, seed in enumerate(ctx.seeds):
        seed_everything(seed)
        drop = nn.Dropout(p=0.5)
        out = drop(torch.ones(1000))
        kept = out[out != 0]
        rows.append((float((out == 0).float().mean()), kept.unique().tolist(), float(out.mean())))
        ctx.progress(index + 1, len(ctx.seeds), f"seed {seed}")
    ctx.log(f"A new nn.Dropout starts with .training = {fresh_mode}.")
    ctx.log(f"Train mode, 1000 ones, seeds {ctx.seeds}:")
    for seed, (zeros, kept, mean) in zip(ctx.seeds, rows, strict=True):
        ctx.log(f"  seed {seed}: {zeros:.1%} zeroed, kept values {kept}, mean {mean:.3f}")
    answer = decide(printed, choices)
    if answer == "D":
        ctx.log("\nWhy: modules start in train mode (printed above), so the first call drops "
                f"about half the entries ({min(r[0] for r in rows):.1%} to "
                f"{max(r[0] for r in rows):.1%} here) and multiplies the survivors by "
                "1 / (1 - p) = 2. That keeps the expected output equal to the input (means "
                "near 1 above), so nothing needs rescaling later. .eval() turns dropout into "
                "the identity: every 1.0 passes unchanged. The original dropout paper scaled "
                "by the keep probability (1 - p) at test time instead (general knowledge); "
                "PyTorch's 'inverted' dropout scales while training, as the nn.Dropout "
                "documentation says.")
    return {"answer": answer, "metrics": {
        "printed": printed, "fresh_module_training": int(fresh_mode),
        "zeroed_min": min(r[0] for r in rows), "zeroed_max": max(r[0] for r in rows),
        "seeds": len(ctx.seeds)}}
