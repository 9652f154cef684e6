"""Runs the problem's own code and prints what it prints: parameters of a regular 3x3 conv
and of a depthwise-separable pair (depthwise 3x3 with groups=64, then a 1x1 pointwise conv).

Then the count split by layer and tensor, so the printout shows where each number comes from.
"""

from __future__ import annotations

import contextlib
import io

from torch import nn

from bot.worker.lab.env import seed_everything

CHOICES = {"A": "73728 8768", "B": "73856 45056", "C": "73856 8768", "D": "73856 8960"}


def problem_code() -> None:
    """The snippet from the problem, line for line."""
    regular = nn.Conv2d(64, 128, 3, padding=1)
    depthwise = nn.Conv2d(64, 64, 3, padding=1, groups=64, bias=False)
    pointwise = nn.Conv2d(64, 128, 1, bias=False)

    def count(m):
        return sum(p.numel() for p in m.parameters())

    print(count(regular), count(depthwise) + count(pointwise))


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


def shapes(module: nn.Module) -> str:
    return ", ".join(f"{name} {tuple(p.shape)} = {p.numel():,}"
                     for name, p in module.named_parameters())


def run(ctx):
    choices = ctx.params.get("choices", CHOICES)
    outputs = []
    for index, seed in enumerate(ctx.seeds):
        seed_everything(seed)
        outputs.append(printed(problem_code))
        ctx.progress(index + 1, len(ctx.seeds), f"seed {seed}")
    ctx.log(f"The snippet prints (all {len(ctx.seeds)} seeds): {outputs[0]}")
    regular = nn.Conv2d(64, 128, 3, padding=1)
    depthwise = nn.Conv2d(64, 64, 3, padding=1, groups=64, bias=False)
    pointwise = nn.Conv2d(64, 128, 1, bias=False)
    ungrouped = nn.Conv2d(64, 64, 3, padding=1, bias=False)
    ctx.log("\nParameter tensors:")
    ctx.log(f"  regular:   {shapes(regular)}")
    ctx.log(f"  depthwise: {shapes(depthwise)}")
    ctx.log(f"  pointwise: {shapes(pointwise)}")
    ctx.log(f"  the depthwise conv without groups=64 would have {shapes(ungrouped)}")
    n_reg = sum(p.numel() for p in regular.parameters())
    n_sep = sum(p.numel() for m in (depthwise, pointwise) for p in m.parameters())
    ctx.log(f"\nWhy: a Conv2d weight is (out, in/groups, k, k). The regular conv has "
            f"128 x 64 x 3 x 3 weights plus 128 biases = {n_reg:,}. With groups=64 each "
            f"filter sees one input channel: 64 x 1 x 3 x 3 = {depthwise.weight.numel()}; the "
            f"1x1 pointwise conv mixes channels with 128 x 64 = {pointwise.weight.numel():,}. "
            f"bias=False leaves both without biases: {n_sep:,} in all, "
            f"{n_reg / n_sep:.1f}x fewer for the same input and output shapes.")
    answer = decide(outputs, choices)
    return {"answer": answer, "metrics": {
        "printed": outputs[0], "regular": n_reg, "separable": n_sep,
        "ratio": round(n_reg / n_sep, 2), "seeds": len(ctx.seeds)}}
