"""Runs the problem's own code and prints what it prints: the shape after a strided conv.

Then the same layer with one setting changed at a time, so the printout shows which part of
the formula each wrong choice forgot.
"""

from __future__ import annotations

import contextlib
import io

import torch
from torch import nn

from bot.worker.lab.env import seed_everything

# The problem's choices; the derived answer is the letter whose text the code printed.
CHOICES = {
    "A": "torch.Size([8, 16, 16, 16])",
    "B": "torch.Size([8, 16, 15, 15])",
    "C": "torch.Size([8, 16, 14, 14])",
    "D": "torch.Size([8, 3, 15, 15])",
}


def problem_code() -> None:
    """The snippet from the problem, line for line."""
    x = torch.randn(8, 3, 32, 32)
    conv = nn.Conv2d(3, 16, kernel_size=5, stride=2, padding=1)
    print(conv(x).shape)


def printed(fn) -> str:
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        fn()
    return buffer.getvalue().strip()


def decide(outputs: list[str], choices: dict[str, str]) -> str:
    """The letter whose text every seed printed; anything else is an error, not a guess."""
    if len(set(outputs)) != 1:
        raise RuntimeError(f"the snippet printed different things per seed: {outputs}")
    answer = next((k for k, v in choices.items() if v == outputs[0]), None)
    if answer is None:
        raise RuntimeError(f"printed {outputs[0]!r}, which matches no choice")
    return answer


def side(**overrides) -> int:
    settings = {"kernel_size": 5, "stride": 2, "padding": 1, **overrides}
    return nn.Conv2d(3, 16, **settings)(torch.randn(1, 3, 32, 32)).shape[-1]


def run(ctx):
    choices = ctx.params.get("choices", CHOICES)
    outputs = []
    for index, seed in enumerate(ctx.seeds):
        seed_everything(seed)
        outputs.append(printed(problem_code))
        ctx.progress(index + 1, len(ctx.seeds), f"seed {seed}")
    ctx.log(f"The snippet prints (all {len(ctx.seeds)} seeds): {outputs[0]}")
    formula = (32 + 2 * 1 - 5) // 2 + 1
    no_pad, stride1 = side(padding=0), side(stride=1)
    ctx.log("\nSame layer, one setting changed (height of the output):")
    ctx.log(f"  as written (k=5, s=2, p=1): {side()}")
    ctx.log(f"  padding=0:                  {no_pad}")
    ctx.log(f"  stride=1:                   {stride1}")
    ctx.log(f"\nWhy: out = floor((H + 2p - k) / s) + 1 = floor((32 + 2 - 5) / 2) + 1 = "
            f"floor(14.5) + 1 = {formula}. The leftover half step is dropped, so stride 2 does "
            f"not simply halve 32 to 16. The channel count is out_channels = 16, whatever the "
            f"input had (3); the batch of 8 passes through unchanged.")
    answer = decide(outputs, choices)
    return {"answer": answer, "metrics": {
        "printed": outputs[0], "formula_height": formula, "height_padding0": no_pad,
        "height_stride1": stride1, "seeds": len(ctx.seeds)}}
