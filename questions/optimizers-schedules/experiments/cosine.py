"""Runs the problem's CosineAnnealingLR loop, which steps twice as far as T_max.

Prints the sampled learning rates, then the whole curve over 40 steps next to
CosineAnnealingWarmRestarts(T_0=10) for comparison.
"""

from __future__ import annotations

import contextlib
import io
import math

import torch
from torch import nn

from bot.worker.lab.env import seed_everything

CHOICES = {
    "A": "[0.5, 0.0, 0.5, 1.0]",
    "B": "[0.5, 0.0, 0.0, 0.0]",
    "C": "[0.5, 1.0, 0.5, 1.0]",
    "D": "[0.0, 1.0, 0.0, 1.0]",
}


def problem_code() -> None:
    """The snippet from the problem, line for line."""
    model = nn.Linear(2, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=10)
    seen = []
    for step in range(1, 21):
        optimizer.step()
        scheduler.step()
        if step % 5 == 0:
            seen.append(round(scheduler.get_last_lr()[0], 3))
    print(seen)


def curve(make, steps: int) -> list[float]:
    """The learning rate after each of `steps` scheduler steps (step 0 = before any)."""
    optimizer = torch.optim.SGD(nn.Linear(2, 1).parameters(), lr=1.0)
    scheduler = make(optimizer)
    lrs = [scheduler.get_last_lr()[0]]
    for _ in range(steps):
        optimizer.step()
        scheduler.step()
        lrs.append(scheduler.get_last_lr()[0])
    return lrs


def decide(output: str, choices: dict[str, str]) -> str:
    """The letter whose text is what the code printed."""
    for letter, text in choices.items():
        if text.strip() == output.strip():
            return letter
    raise RuntimeError(f"the code printed {output!r}, which matches no choice")


def figure(cosine: list[float], restarts: list[float]):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 3.6), dpi=100)
    ax.plot(range(len(cosine)), cosine, marker=".", label="CosineAnnealingLR(T_max=10)")
    ax.plot(range(len(restarts)), restarts, linestyle="--", color="grey",
            label="CosineAnnealingWarmRestarts(T_0=10)")
    ax.scatter([5, 10, 15, 20], [cosine[i] for i in (5, 10, 15, 20)], color="#dd8452",
               zorder=3, label="what the snippet prints")
    ax.axvline(10, color="black", linestyle=":", linewidth=1)
    ax.set(title="Learning rate after each scheduler.step()", xlabel="scheduler steps",
           ylabel="learning rate", ylim=(-0.05, 1.1))
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize="small")
    fig.tight_layout()
    return fig


def run(ctx):
    choices = ctx.params.get("choices", CHOICES)
    outputs = []
    for index, seed in enumerate(ctx.seeds):
        seed_everything(seed)  # changes only the Linear layer's initial weights
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            problem_code()
        outputs.append(buffer.getvalue().strip())
        ctx.progress(index + 1, len(ctx.seeds), f"seed {seed}")
    if len(set(outputs)) != 1:
        raise RuntimeError(f"the output changed with the seed: {outputs}")
    output = outputs[0]
    sched = torch.optim.lr_scheduler
    cosine = curve(lambda o: sched.CosineAnnealingLR(o, T_max=10), 40)
    restarts = curve(lambda o: sched.CosineAnnealingWarmRestarts(o, T_0=10), 40)
    ctx.figure("cosine-past-t-max", figure(cosine, restarts))
    ctx.log(f"The snippet prints (each of {len(ctx.seeds)} seeds):\n  {output}")
    at = ", ".join(f"{s}: {cosine[s]:.3f}" for s in (5, 10, 15, 20, 30, 40))
    ctx.log(f"CosineAnnealingLR(T_max=10) after n steps ({at})")
    ctx.log("CosineAnnealingWarmRestarts(T_0=10) after n steps ("
            + ", ".join(f"{s}: {restarts[s]:.3f}" for s in (5, 10, 15, 20)) + ")")
    formula = [0.5 * (1 + math.cos(math.pi * n / 10)) for n in range(len(cosine))]
    fits = max(abs(a - b) for a, b in zip(cosine, formula, strict=True)) < 1e-6
    ctx.log("\nWhy: T_max is half a period. The rate follows 0.5 x (1 + cos(pi x n / 10)) "
            f"({'checked' if fits else 'NOT matched'} at all 40 steps) from 1.0 down to "
            f"eta_min=0 at step 10 ({cosine[10]:.3f}), and the scheduler "
            f"does not stop there: past T_max the cosine climbs back, reaching {cosine[15]:.3f} "
            f"at step 15 and {cosine[20]:.3f} at step 20. It rises smoothly, unlike the warm-"
            f"restart scheduler, which jumps back to {restarts[10]:.3f} at step 10. Set T_max to "
            "the total number of scheduler.step() calls you will make.")
    answer = decide(output, choices)
    return {"answer": answer, "metrics": {
        "printed": output, "lr_step_10": round(cosine[10], 4),
        "lr_step_20": round(cosine[20], 4), "restarts_lr_step_10": round(restarts[10], 4),
        "cosine_formula_fits": int(fits),
        "seeds": len(ctx.seeds)}}
