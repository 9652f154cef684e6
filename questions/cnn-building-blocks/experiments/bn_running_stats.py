"""Runs the problem's own code and prints what it prints: BatchNorm2d's running mean after two
training-mode passes, and its eval-mode output.

Then the running statistics after each pass, so the printout shows the update rule at work.
"""

from __future__ import annotations

import contextlib
import io

import torch
from torch import nn

from bot.worker.lab.env import seed_everything

CHOICES = {"A": "5.0 0.0", "B": "0.95 0.0", "C": "4.95 0.5", "D": "0.95 4.5"}


def problem_code() -> None:
    """The snippet from the problem, line for line."""
    bn = nn.BatchNorm2d(1)                  # running_mean=0, running_var=1 at the start
    x = torch.full((4, 1, 2, 2), 5.0)
    bn(x)                                   # two forward passes in training mode
    bn(x)
    bn.eval()
    out = bn(x)[0, 0, 0, 0].item()
    print(round(bn.running_mean.item(), 2), round(out, 2))


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
    bn = nn.BatchNorm2d(1)
    x = torch.full((4, 1, 2, 2), 5.0)
    ctx.log(f"\nmomentum = {bn.momentum}. Running statistics, step by step:")
    ctx.log(f"  start:         mean {bn.running_mean.item():.4g}, var {bn.running_var.item():.4g}")
    train_out = None
    for step in (1, 2):
        train_out = bn(x)
        ctx.log(f"  after pass {step}:  mean {bn.running_mean.item():.4g}, "
                f"var {bn.running_var.item():.4g}")
    assert train_out is not None
    train_value = train_out[0, 0, 0, 0].item()
    bn.eval()
    mean, var = bn.running_mean.item(), bn.running_var.item()
    eval_value = bn(x)[0, 0, 0, 0].item()
    zero = "0 up to float rounding" if abs(train_value) < 1e-3 else "not 0"
    ctx.log(f"  training-mode output of pass 2: {train_value:.1e}, {zero} (normalised with "
            f"the batch's own mean, 5)")
    ctx.log(f"  eval-mode output: (5 - {mean:.4g}) / sqrt({var:.4g} + 1e-5) = {eval_value:.4g}")
    ctx.log(f"\nWhy: PyTorch updates running = (1 - momentum) * running + momentum * batch, "
            f"so momentum {bn.momentum} is the weight of the *new* batch: 0 -> 0.5 -> "
            f"{mean:.4g}. The batch variance of a constant is 0, so the running variance "
            f"decays 1 -> 0.9 -> {var:.4g}. In eval mode BatchNorm uses these running values, "
            f"not the batch's, so the output is {eval_value:.4g} rather than 0.")
    answer = decide(outputs, choices)
    return {"answer": answer, "metrics": {
        "printed": outputs[0], "running_mean": round(mean, 4), "running_var": round(var, 4),
        "eval_output": round(eval_value, 4), "train_output": round(train_value, 4),
        "seeds": len(ctx.seeds)}}
