"""Runs the problem's own code: a second backward through part of a graph already used.

The snippet is executed exactly as the problem shows it, once per seed. Then it is run again
with retain_graph=True on the first backward, and x.grad is read between the two calls.
"""

from __future__ import annotations

import torch

from bot.worker.lab.snippet import first_sentence, match_choice, run_per_seed

CODE = """\
import torch

x = torch.tensor(2.0, requires_grad=True)
y = x ** 3
(2 * y).backward()
y.backward()
print(x.grad)
"""

CHOICES = {
    "A": "tensor(24.)",
    "B": "tensor(36.)",
    "C": "RuntimeError: Trying to backward through the graph a second time",
    "D": "tensor(12.)",
}


def decide(printed: str, choices: dict[str, str] = CHOICES) -> str:
    """The letter whose text is what the code printed (an error matches by its start)."""
    return match_choice(printed, choices)


def variant(retain: bool) -> tuple[float, str]:
    """x.grad after the first backward, and what the second backward leads to."""
    x = torch.tensor(2.0, requires_grad=True)
    y = x ** 3
    (2 * y).backward(retain_graph=retain)
    first = x.grad.item()
    try:
        y.backward()
    except RuntimeError as exc:
        return first, first_sentence(f"RuntimeError: {exc}")
    return first, f"x.grad = {x.grad.item():g}"


def saved_before_and_after() -> tuple[str, bool, str]:
    """y's backward node, whether it holds x before the first backward, and what reading
    that saved x gives after it."""
    x = torch.tensor(2.0, requires_grad=True)
    y = x ** 3
    node, before = type(y.grad_fn).__name__, y.grad_fn._saved_self is x
    (2 * y).backward()
    try:
        _ = y.grad_fn._saved_self
    except RuntimeError as exc:
        return node, before, first_sentence(f"RuntimeError: {exc}")
    return node, before, "still there"


def run(ctx):
    choices = ctx.params.get("choices", CHOICES)
    printed, _ = run_per_seed(ctx, CODE)

    first, freed = variant(retain=False)
    _, retained = variant(retain=True)
    node, holds, after = saved_before_and_after()
    ctx.log(f"\ny.grad_fn ({node}) holds x before any backward: {holds}")
    ctx.log(f"reading that saved x after the first backward: {after}")
    ctx.log(f"x.grad after (2 * y).backward(): {first:g}")
    ctx.log(f"then y.backward(), as in the snippet: {freed}")
    ctx.log(f"then y.backward(), if the first call had retain_graph=True: {retained}")
    ctx.log("\nWhy: y = x ** 3 saves x for its backward (dy/dx = 3x^2). (2 * y).backward() "
            f"runs through that node (x.grad = 2 x 3 x 2^2 = {first:g}) and then frees what "
            "the nodes saved (to release memory, general knowledge). y.backward() needs the "
            "same node again, so it fails before print is reached. With retain_graph=True the "
            f"saved values stay, and the second call *adds* 3 x 2^2 = 12: {retained}.")
    answer = decide(printed, choices)
    return {"answer": answer, "metrics": {
        "printed": first_sentence(printed), "grad_after_first_backward": first,
        "saved_x_before_backward": int(holds), "saved_x_after_backward": after,
        "with_retain_graph": retained, "seeds": len(ctx.seeds)}}
