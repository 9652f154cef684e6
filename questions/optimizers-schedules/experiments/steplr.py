"""Runs the problem's own StepLR loop and prints the learning rate each epoch used.

The epoch's training is left out (optimizer.step() with no gradients changes nothing), so
what is printed depends only on how StepLR counts scheduler.step() calls.
"""

from __future__ import annotations

import contextlib
import io

import torch
from torch import nn

from bot.worker.lab.env import seed_everything

CHOICES = {
    "A": "[1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25]",
    "B": "[0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.125]",
    "C": "[1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25]",
    "D": "[1.0, 0.5, 0.25, 0.125, 0.0625, 0.03125, 0.015625]",
}


def problem_code() -> None:
    """The snippet from the problem, line for line."""
    model = nn.Linear(2, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=3, gamma=0.5)
    lrs = []
    for epoch in range(7):  # noqa: B007 - the problem's code
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()  # one epoch of training would go here
        scheduler.step()
    print(lrs)


def printed_by_problem_code() -> str:
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        problem_code()
    return buffer.getvalue().strip()


def decide(printed: str, choices: dict[str, str]) -> str:
    """The letter whose text is what the code printed."""
    for letter, text in choices.items():
        if text.strip() == printed.strip():
            return letter
    raise RuntimeError(f"the code printed {printed!r}, which matches no choice")


def lr_figure(lrs: list[float]):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 3.4), dpi=100)
    ax.step(range(len(lrs)), lrs, where="post", marker="o", color="#4c72b0")
    for epoch in range(3, len(lrs), 3):
        ax.axvline(epoch, color="grey", linestyle=":", linewidth=1)
    ax.set(title="StepLR(step_size=3, gamma=0.5): learning rate used by each epoch",
           xlabel="epoch (index in lrs)", ylabel="learning rate", ylim=(0, 1.1))
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def run(ctx):
    choices = ctx.params.get("choices", CHOICES)
    outputs = []
    for index, seed in enumerate(ctx.seeds):
        seed_everything(seed)  # changes only the Linear layer's initial weights
        printed = printed_by_problem_code()
        outputs.append(printed)
        ctx.progress(index + 1, len(ctx.seeds), f"seed {seed}")
    ctx.log(f"The snippet prints (the same with each of {len(ctx.seeds)} seeds):")
    ctx.log(f"  {outputs[0]}")
    if len(set(outputs)) != 1:
        raise RuntimeError(f"the output changed with the seed: {outputs}")
    lrs = [float(v) for v in outputs[0].strip("[]").split(",")]
    formula = [1.0 * 0.5 ** (epoch // 3) for epoch in range(7)]
    matches = lrs == formula
    ctx.figure("steplr-learning-rates", lr_figure(lrs))
    ctx.log("\nWhy: each epoch appends the rate *before* calling scheduler.step(). StepLR "
            "multiplies the rate by gamma=0.5 on every 3rd scheduler.step() call, so epoch e "
            f"uses 1.0 x 0.5 ** (e // 3). That formula gives {formula}: "
            f"{'the same list' if matches else 'a different list'}. Epochs 0-2 use the "
            "initial 1.0, epochs 3-5 use 0.5 and epoch 6 uses 0.25.")
    answer = decide(outputs[0], choices)
    return {"answer": answer, "metrics": {
        "printed": outputs[0], "lr_epoch_6": lrs[-1], "matches_formula": int(matches),
        "seeds": len(ctx.seeds)}}
