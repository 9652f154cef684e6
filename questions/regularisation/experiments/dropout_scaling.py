"""Runs the problem's own code and prints what it prints: dropout in train mode, then eval mode.

The snippet has no seed of its own; it runs once per seed, so the printout shows that which
elements are dropped changes with the seed while the printed values do not.
"""

from __future__ import annotations

import contextlib
import io

import torch
from torch import nn

from bot.worker.lab.env import seed_everything

# The problem's choices: the two printed lines, joined by " / ".
CHOICES = {"A": "1.25 1.0 / 1.0", "B": "1.0 0.8 / 0.8", "C": "1.25 1.0 / 1.25",
           "D": "1.0 0.8 / 1.0"}


def problem_code() -> nn.Dropout:
    """The snippet from the problem, unchanged."""
    drop = nn.Dropout(p=0.2)
    x = torch.ones(10_000)
    y = drop(x)
    print(y.max().item(), round(y.mean().item(), 1))
    drop.eval()
    print(drop(x).max().item())
    return drop


def printed_by(code) -> str:
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        code()
    return " / ".join(line.strip() for line in buffer.getvalue().strip().splitlines())


def decide(printed: str, choices: dict[str, str] = CHOICES) -> str:
    """The letter whose text is what the snippet printed; no match is an error."""
    for letter, text in choices.items():
        if " ".join(text.split()) == " ".join(printed.split()):
            return letter
    raise RuntimeError(f"the snippet printed {printed!r}, which matches no choice")


def run(ctx):
    choices = ctx.params.get("choices", CHOICES)
    outputs, kept = [], []
    for index, seed in enumerate(ctx.seeds):
        seed_everything(seed)
        outputs.append(printed_by(problem_code))
        seed_everything(seed)  # the same mask again, to count what was kept
        mask = nn.Dropout(p=0.2)(torch.ones(10_000)) > 0
        kept.append(mask.float().mean().item())
        ctx.log(f"seed {seed}: the snippet prints  {outputs[-1]}   "
                f"(kept {kept[-1]:.1%} of the 10,000 ones)")
        ctx.progress(index + 1, len(ctx.seeds), f"seed {seed}")
    same = len(set(outputs)) == 1
    ctx.log(f"\nThe same output in {sum(o == outputs[0] for o in outputs)} of {len(outputs)} "
            "seeds.")
    scale = 1 / (1 - 0.2)
    ctx.log(f"\nWhy: a new nn.Dropout is in training mode. Each element is zeroed with "
            f"probability p = 0.2 and each survivor is multiplied by 1/(1-p) = {scale:.2f}, so "
            f"the max is {scale:.2f}; about {min(kept):.1%} to {max(kept):.1%} survived, so the "
            f"mean stays near 1 ({kept[0]:.3f} x {scale:.2f} = {kept[0] * scale:.3f} for seed "
            f"{ctx.seeds[0]}), which rounds to 1.0. After drop.eval() dropout is the identity: "
            "nothing is zeroed and nothing is scaled, so the max is 1.0. Because the survivors "
            "were scaled up in training, the expected output is 1 in both modes, so eval mode "
            "needs no correction.")
    answer = decide(outputs[0], choices)
    if not same:
        raise RuntimeError(f"the output changed with the seed: {outputs}")
    return {"answer": answer, "metrics": {
        "printed": outputs[0], "kept_fraction_min": round(min(kept), 4),
        "kept_fraction_max": round(max(kept), 4), "same_across_seeds": int(same),
        "seeds": len(ctx.seeds)}}
