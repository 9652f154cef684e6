"""Runs the problem's loop, which calls scheduler.step() before optimizer.step().

Prints the learning rate each optimizer.step() used, whether PyTorch warned, and what the
recommended order (optimizer.step() first) prints for comparison.
"""

from __future__ import annotations

import contextlib
import io
import warnings

import torch
from torch import nn

from bot.worker.lab.env import seed_everything

CHOICES = {
    "A": "[0.5, 0.25, 0.125]",
    "B": "[1.0, 0.5, 0.25]",
    "C": "It raises a RuntimeError about the call order.",
    "D": "[1.0, 1.0, 0.5]",
}
RAISED = "C"  # the choice that says the code raises


def problem_code() -> None:
    """The snippet from the problem, line for line."""
    model = nn.Linear(2, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    used = []
    for epoch in range(3):  # noqa: B007 - the problem's code
        scheduler.step()
        used.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
    print(used)


def recommended_order() -> list[float]:
    """The same loop with optimizer.step() before scheduler.step()."""
    model = nn.Linear(2, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    used = []
    for _ in range(3):
        used.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return used


def run_problem_code() -> tuple[str | None, str | None, list[str]]:
    """(what it printed, the exception if it raised, the warnings it issued)."""
    buffer = io.StringIO()
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(buffer):
        warnings.simplefilter("always")
        try:
            problem_code()
        except Exception as exc:  # the run shows whether PyTorch refuses the order
            return None, f"{type(exc).__name__}: {exc}", [str(w.message) for w in caught]
    return buffer.getvalue().strip(), None, [str(w.message) for w in caught]


def decide(printed: str | None, raised: str | None, choices: dict[str, str]) -> str:
    """The letter whose text is what happened: the printed list, or the exception."""
    if raised is not None:
        if raised.startswith("RuntimeError"):
            return RAISED
        raise RuntimeError(f"the code raised {raised}, which matches no choice")
    for letter, text in choices.items():
        if text.strip() == (printed or "").strip():
            return letter
    raise RuntimeError(f"the code printed {printed!r}, which matches no choice")


def run(ctx):
    choices = ctx.params.get("choices", CHOICES)
    results = []
    for index, seed in enumerate(ctx.seeds):
        seed_everything(seed)  # changes only the Linear layer's initial weights
        results.append(run_problem_code())
        ctx.progress(index + 1, len(ctx.seeds), f"seed {seed}")
    printed, raised, caught = results[0]
    if len({(p, r) for p, r, _ in results}) != 1:
        raise RuntimeError(f"the outcome changed with the seed: {results}")
    ctx.log(f"The snippet (same with each of {len(ctx.seeds)} seeds) "
            + (f"raised {raised}" if raised else f"prints:\n  {printed}"))
    order_warning = [w for w in caught if "lr_scheduler.step()" in w]
    if order_warning:
        first = order_warning[0].split(". ")[0]
        ctx.log(f"It did not raise; PyTorch issued a UserWarning instead:\n  \"{first}.\"")
        if "skipping the first value" in order_warning[0]:
            ctx.log("  The warning adds that this makes PyTorch skip the first value of the "
                    "learning rate schedule.")
    else:
        ctx.log("PyTorch issued no warning about the call order.")
    right = recommended_order()
    ctx.log(f"With optimizer.step() before scheduler.step(), the three steps use {right}.")
    ctx.log("\nWhy: scheduler.step() changes param_groups[0]['lr'] at once. Called first, "
            "it halves the rate before the first optimizer.step() can use the initial "
            f"{right[0]}, so every step runs one decay early: {printed} instead of {right}. "
            "The schedule's first value is never used.")
    answer = decide(printed, raised, choices)
    return {"answer": answer, "metrics": {
        "printed": printed or "", "raised": raised or "", "warned": int(bool(order_warning)),
        "recommended_order": str(right), "seeds": len(ctx.seeds)}}
