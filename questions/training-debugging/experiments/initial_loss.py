"""Runs the problem's own code and prints what it prints: the cross-entropy of a fresh model.

Then the same model with the seed of each run instead of 0, with 100 classes instead of 10,
and with inputs 50x too large (as raw, unnormalised features would be), to show what the
initial loss looks like when it is right and when it is not.
"""

from __future__ import annotations

import contextlib
import io
import math

import torch
from torch import nn

from bot.worker.lab.env import seed_everything

# The problem's code, exactly as shown; run with exec so the two cannot drift apart.
SNIPPET = """\
import torch
from torch import nn

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 10))
x = torch.randn(64, 20)          # a batch of 64 inputs
y = torch.randint(0, 10, (64,))  # labels of 10 classes
loss = nn.functional.cross_entropy(model(x), y)
print(f"{loss.item():.1f}")
"""
CHOICES = {"A": "0.1", "B": "2.3", "C": "0.7", "D": "0.9"}


def run_snippet(code: str = SNIPPET) -> str:
    """Executes the code and returns what it printed."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "<problem code>", "exec"), {"__name__": "problem_code"})  # noqa: S102
    return out.getvalue().strip()


def initial_loss(seed: int, classes: int = 10, input_scale: float = 1.0) -> tuple[float, float]:
    """The snippet's model and batch, seeded with `seed`: the unrounded loss, and the
    standard deviation of each example's logits (averaged over the batch)."""
    seed_everything(seed)
    model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, classes))
    x = torch.randn(64, 20) * input_scale
    y = torch.randint(0, classes, (64,))
    with torch.no_grad():
        logits = model(x)
        return nn.functional.cross_entropy(logits, y).item(), logits.std(dim=1).mean().item()


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
    ln10, ln100 = math.log(10), math.log(100)
    losses, spreads = [], []
    for index, seed in enumerate(ctx.seeds):
        loss, spread = initial_loss(seed)
        losses.append(loss)
        spreads.append(spread)
        ctx.progress(index + 1, len(ctx.seeds), f"seed {seed}")
    near = sum(abs(v - ln10) < 0.1 for v in losses)
    ctx.log(f"\nThe same code with torch.manual_seed(s) for seeds {ctx.seeds}: "
            + ", ".join(f"{v:.3f}" for v in losses)
            + f". ln 10 = {ln10:.3f}; within 0.1 of it in {near} of {len(losses)} seeds.")
    wide = [initial_loss(seed, classes=100)[0] for seed in ctx.seeds]
    raw_runs = [initial_loss(seed, input_scale=50.0) for seed in ctx.seeds]
    raw, raw_spread = [v for v, _ in raw_runs], max(s for _, s in raw_runs)
    ctx.log(f"With 100 classes: {', '.join(f'{v:.2f}' for v in wide)} (ln 100 = {ln100:.2f}).")
    ctx.log(f"With inputs 50x larger (like unnormalised features): "
            f"{', '.join(f'{v:.1f}' for v in raw)}.")
    answer = decide(printed, choices)
    gap = max([abs(v - ln10) for v in losses] + [abs(v - ln100) for v in wide])
    ctx.log(f"Spread (std) of one example's 10 logits: {max(spreads):.2f} at most with the "
            f"snippet's inputs, {raw_spread:.1f} with inputs 50x larger.")
    ctx.log("\nWhy: a fresh network's logits are small and nearly equal, so softmax gives each "
            f"of the C classes a probability near 1/C, and the loss -ln p(correct) is near "
            f"ln C: {ln10:.2f} for 10 classes, {ln100:.2f} for 100. The logits are not "
            "exactly equal and the batch is finite, so the measured values differ from ln C "
            f"by a little (here by at most {gap:.2f}). An initial loss far above ln C, like the "
            f"{min(raw):.1f} or more with unscaled inputs, means the model starts confidently "
            "wrong: check input normalisation and the initialisation before training.")
    return {"answer": answer, "metrics": {
        "printed": printed, "ln_c": round(ln10, 4),
        "max_gap_to_ln_c": round(gap, 4),
        "logit_std": round(max(spreads), 4), "loss_min": round(min(losses), 4),
        "loss_max": round(max(losses), 4),
        "seeds_within_0_1": near, "loss_100_classes": round(sum(wide) / len(wide), 4),
        "loss_unscaled_inputs": round(sum(raw) / len(raw), 3), "seeds": len(ctx.seeds)}}
