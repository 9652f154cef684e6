"""Runs the problem's own code and prints what it prints: a dilated conv, then max pooling.

Then each layer alone, and the pool with stride 1, so the printout shows where each wrong
choice went astray.
"""

from __future__ import annotations

import contextlib
import io

import torch
from torch import nn

from bot.worker.lab.env import seed_everything

CHOICES = {
    "A": "torch.Size([1, 4, 13, 13])",
    "B": "torch.Size([1, 4, 14, 14])",
    "C": "torch.Size([1, 4, 12, 12])",
    "D": "torch.Size([1, 4, 25, 25])",
}


def problem_code() -> None:
    """The snippet from the problem, line for line."""
    x = torch.randn(1, 1, 28, 28)
    net = nn.Sequential(
        nn.Conv2d(1, 4, kernel_size=3, padding=1, dilation=2),
        nn.MaxPool2d(2),
    )
    print(net(x).shape)


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


def run(ctx):
    choices = ctx.params.get("choices", CHOICES)
    outputs = []
    for index, seed in enumerate(ctx.seeds):
        seed_everything(seed)
        outputs.append(printed(problem_code))
        ctx.progress(index + 1, len(ctx.seeds), f"seed {seed}")
    ctx.log(f"The snippet prints (all {len(ctx.seeds)} seeds): {outputs[0]}")
    x = torch.randn(1, 1, 28, 28)
    conv = nn.Conv2d(1, 4, kernel_size=3, padding=1, dilation=2)
    after_conv = conv(x).shape[-1]
    undilated = nn.Conv2d(1, 4, kernel_size=3, padding=1)(x).shape[-1]
    pool = nn.MaxPool2d(2)
    pooled, stride1 = pool(conv(x)).shape[-1], nn.MaxPool2d(2, stride=1)(conv(x)).shape[-1]
    ctx.log("\nMeasured heights:")
    ctx.log(f"  after the dilated conv:                {after_conv}")
    ctx.log(f"  the same conv without dilation:        {undilated}")
    ctx.log(f"  then MaxPool2d(2) (stride={pool.stride} by default): {pooled}")
    ctx.log(f"  then MaxPool2d(2, stride=1) instead:   {stride1}")
    span = 2 * (3 - 1) + 1
    ctx.log(f"\nWhy: dilation 2 spreads the 3 taps over d(k-1)+1 = {span} pixels, so the conv "
            f"acts like a {span}x{span} kernel: out = 28 + 2*1 - {span} + 1 = {after_conv}. "
            f"padding=1 keeps the size only for an undilated 3x3 ({undilated}). MaxPool2d's "
            f"stride defaults to its kernel size, {pool.stride}, so the pool halves "
            f"{after_conv} to {pooled}.")
    answer = decide(outputs, choices)
    return {"answer": answer, "metrics": {
        "printed": outputs[0], "after_conv": after_conv, "undilated": undilated,
        "pooled": pooled, "pool_stride1": stride1, "seeds": len(ctx.seeds)}}
