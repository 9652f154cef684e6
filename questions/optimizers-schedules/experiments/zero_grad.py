"""Runs the problem's loop, which calls optimizer.zero_grad() between backward() and step().

Prints what the snippet prints, then the same loop with zero_grad() first (the usual
placement) and with zero_grad(set_to_none=False), so each choice's misreading is shown.
"""

from __future__ import annotations

import contextlib
import io

import torch

from bot.worker.lab.env import seed_everything

CHOICES = {
    "A": "tensor(2.) 0.4",
    "B": "tensor(0.) 1.0",
    "C": "tensor(6.) -0.2",
    "D": "None 1.0",
}


def problem_code() -> None:
    """The snippet from the problem, line for line."""
    w = torch.tensor(1.0, requires_grad=True)
    optimizer = torch.optim.SGD([w], lr=0.1)
    for step in range(3):  # noqa: B007 - the problem's code
        loss = 2 * w
        loss.backward()
        optimizer.zero_grad()
        optimizer.step()
    print(w.grad, round(w.item(), 3))


def variant(placement: str) -> str:
    """The loop with zero_grad() first, kept as zeros, or left out ("never"); returns
    what the snippet's print would show."""
    w = torch.tensor(1.0, requires_grad=True)
    optimizer = torch.optim.SGD([w], lr=0.1)
    for _ in range(3):
        if placement == "first":
            optimizer.zero_grad()
        loss = 2 * w
        loss.backward()
        if placement == "keep zeros":
            optimizer.zero_grad(set_to_none=False)
        optimizer.step()
    return f"{w.grad!s} {round(w.item(), 3)}"


def printed(fn) -> str:
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        fn()
    return buffer.getvalue().strip()


def decide(output: str, choices: dict[str, str]) -> str:
    """The letter whose text is what the code printed."""
    for letter, text in choices.items():
        if text.strip() == output.strip():
            return letter
    raise RuntimeError(f"the code printed {output!r}, which matches no choice")


def run(ctx):
    choices = ctx.params.get("choices", CHOICES)
    outputs = []
    for index, seed in enumerate(ctx.seeds):
        seed_everything(seed)  # nothing here is random; the seeds confirm that
        outputs.append(printed(problem_code))
        ctx.progress(index + 1, len(ctx.seeds), f"seed {seed}")
    if len(set(outputs)) != 1:
        raise RuntimeError(f"the output changed with the seed: {outputs}")
    output = outputs[0]
    first, zeros, never = variant("first"), variant("keep zeros"), variant("never")
    ctx.log(f"The snippet prints (each of {len(ctx.seeds)} seeds):\n  {output}")
    ctx.log("For comparison, the same print after the same 3 steps:")
    ctx.log(f"  zero_grad() before backward() (the usual order): {first}")
    ctx.log(f"  zero_grad(set_to_none=False) where the snippet has it: {zeros}")
    ctx.log(f"  no zero_grad() at all (gradients pile up 2, 4, 6): {never}")
    moved = output.split()[-1] != "1.0"
    ctx.log("\nWhy: zero_grad() runs after backward() has filled w.grad and before step() "
            "reads it. Since PyTorch 2.0 it sets .grad to None by default (general "
            "knowledge; the print shows None), and SGD skips a parameter whose .grad is None, "
            f"so w {'moved' if moved else 'never moved from 1.0'}. Clearing gradients belongs "
            f"before backward(): that order takes three steps of 0.1 x 2 and prints {first}.")
    answer = decide(output, choices)
    return {"answer": answer, "metrics": {
        "printed": output, "usual_order_prints": first, "set_to_none_false_prints": zeros,
        "never_zeroed_prints": never,
        "seeds": len(ctx.seeds)}}
