"""Measures a receptive field the way the problem does: back-propagate from one output pixel
and count the input columns that receive a non-zero gradient.

Runs the problem's code for every seed (random weights each time), then the same stack with
stride 1 everywhere, and compares both with the formula r = 1 + sum((k - 1) * jump).
"""

from __future__ import annotations

import contextlib
import io

import torch
from torch import nn

from bot.worker.lab.env import seed_everything

CHOICES = {"A": "9", "B": "12", "C": "13", "D": "17"}


def problem_code() -> torch.Tensor:
    """The snippet from the problem, line for line; returns x.grad for the figure."""
    net = nn.Sequential(
        nn.Conv2d(1, 1, 3, padding=1),
        nn.Conv2d(1, 1, 3, padding=1, stride=2),
        nn.Conv2d(1, 1, 3, padding=1),
        nn.Conv2d(1, 1, 3, padding=1),
    )
    x = torch.randn(1, 1, 64, 64, requires_grad=True)
    net(x)[0, 0, 16, 16].backward()
    cols = (x.grad[0, 0] != 0).any(dim=0).nonzero()
    print(int(cols.max() - cols.min() + 1))
    return x.grad[0, 0]


def measured_width(strides: tuple[int, ...], size: int = 64) -> int:
    """The same measurement for a stack of 3x3 convs with the given strides."""
    net = nn.Sequential(*[nn.Conv2d(1, 1, 3, padding=1, stride=s) for s in strides])
    x = torch.randn(1, 1, size, size, requires_grad=True)
    y = net(x)
    centre = y.shape[-1] // 2
    y[0, 0, centre, centre].backward()
    cols = (x.grad[0, 0] != 0).any(dim=0).nonzero()
    return int(cols.max() - cols.min() + 1)


def formula(strides: tuple[int, ...], k: int = 3) -> tuple[int, list[int]]:
    """r = 1 + sum over layers of (k - 1) * jump, jump = product of the earlier strides."""
    r, jump, growth = 1, 1, []
    for s in strides:
        growth.append((k - 1) * jump)
        r += growth[-1]
        jump *= s
    return r, growth


def printed(fn) -> tuple[str, torch.Tensor]:
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        grad = fn()
    return buffer.getvalue().strip(), grad


def decide(outputs: list[str], choices: dict[str, str]) -> str:
    """The letter whose width every seed measured; anything else is an error, not a guess."""
    if len(set(outputs)) != 1:
        raise RuntimeError(f"the measured width differs per seed: {outputs}")
    answer = next((k for k, v in choices.items() if v == outputs[0]), None)
    if answer is None:
        raise RuntimeError(f"measured {outputs[0]!r}, which matches no choice")
    return answer


def figure(grad: torch.Tensor):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    crop = grad[24:41, 24:41].abs().detach()
    fig, ax = plt.subplots(figsize=(4.8, 4.4), dpi=100)
    ax.imshow((crop > 0).float() * (0.3 + crop / crop.max()), cmap="Blues")
    ax.set(title="|gradient| of output pixel (16, 16) w.r.t. the input\n(input rows/cols 24-40)",
           xticks=range(0, 17, 4), yticks=range(0, 17, 4),
           xticklabels=range(24, 41, 4), yticklabels=range(24, 41, 4))
    fig.tight_layout()
    return fig


def run(ctx):
    choices = ctx.params.get("choices", CHOICES)
    outputs, grad = [], None
    for index, seed in enumerate(ctx.seeds):
        seed_everything(seed)
        out, grad = printed(problem_code)
        outputs.append(out)
        ctx.progress(index + 1, len(ctx.seeds), f"seed {seed}")
    assert grad is not None
    ctx.figure("receptive-field", figure(grad))
    strides = (1, 2, 1, 1)
    expected, growth = formula(strides)
    seed_everything(ctx.seeds[0])
    all_one = measured_width((1, 1, 1, 1))
    ctx.log(f"Measured width of non-zero gradient columns, seeds {ctx.seeds}: "
            f"{', '.join(outputs)} (the snippet's print)")
    ctx.log(f"Same four 3x3 convs, all stride 1: {all_one}")
    ctx.log(f"\nFormula: r = 1 + sum((k - 1) * jump), where jump is the product of the "
            f"strides *before* a layer. Growth per layer: {' + '.join(map(str, growth))}, so "
            f"r = 1 + {sum(growth)} = {expected}.")
    ctx.log(f"\nWhy: the first two layers add 2 input pixels each. After the stride-2 conv, "
            f"neighbouring pixels of its output are 2 input pixels apart, so each later 3x3 "
            f"adds 2 x 2 = 4: {outputs[0]} instead of {all_one}. A stride only widens the "
            "layers that come after it, not the ones before it.")
    answer = decide(outputs, choices)
    return {"answer": answer, "metrics": {
        "width": outputs[0], "formula": expected, "width_all_stride1": all_one,
        "seeds": len(ctx.seeds)}}
