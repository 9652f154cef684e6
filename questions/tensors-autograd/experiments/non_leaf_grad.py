"""Runs the problem's own code: a tensor made by multiplying a requires_grad tensor.

The snippet is executed exactly as the problem shows it, once per seed, and the warning it
raises is shown. Then the hidden leaf the gradient went to is inspected, and two fixes are run.
"""

from __future__ import annotations

import torch

from bot.worker.lab.snippet import first_sentence, match_choice, run_per_seed

CODE = """\
import torch

w = torch.ones(3, requires_grad=True) * 0.5
loss = (w ** 2).sum()
loss.backward()
print(w.is_leaf, w.grad)
"""

CHOICES = {
    "A": "True tensor([1., 1., 1.])",
    "B": "False None",
    "C": "False tensor([1., 1., 1.])",
    "D": "True None",
}


def decide(printed: str, choices: dict[str, str] = CHOICES) -> str:
    """The letter whose text is what the code printed (an error matches by its start)."""
    return match_choice(printed, choices)


def numbers(t: torch.Tensor | None) -> str:
    return "None" if t is None else "[" + ", ".join(f"{v:g}" for v in t.tolist()) + "]"


def run(ctx):
    choices = ctx.params.get("choices", CHOICES)
    printed, caught = run_per_seed(ctx, CODE)
    leaf_warning = next((m for m in caught if "not a leaf" in m), None)
    ctx.log("It warned: " + (first_sentence(leaf_warning) if leaf_warning else "nothing"))

    base = torch.ones(3, requires_grad=True)
    w = base * 0.5
    (w ** 2).sum().backward()
    grad_fn = type(w.grad_fn).__name__
    ctx.log(f"\nw.grad_fn: {grad_fn}; the hidden leaf torch.ones(3, requires_grad=True) got "
            f"grad {numbers(base.grad)}")

    fixed = (torch.ones(3) * 0.5).requires_grad_()
    (fixed ** 2).sum().backward()
    kept = torch.ones(3, requires_grad=True) * 0.5
    kept.retain_grad()
    (kept ** 2).sum().backward()
    ctx.log(f"fix 1, (torch.ones(3) * 0.5).requires_grad_(): is_leaf {fixed.is_leaf}, "
            f"grad {numbers(fixed.grad)}")
    ctx.log(f"fix 2, w.retain_grad() before backward: is_leaf {kept.is_leaf}, "
            f"grad {numbers(kept.grad)}")
    try:
        torch.optim.SGD([w], lr=0.1)
        optimizer_says = "accepted it"
    except ValueError as exc:
        optimizer_says = f"ValueError: {exc}"
    ctx.log(f"torch.optim.SGD([w], lr=0.1) with the snippet's w: {optimizer_says}")
    ctx.log("\nWhy: requires_grad=True is set on torch.ones(3); multiplying by 0.5 makes a new "
            f"tensor with a grad_fn ({grad_fn}), so w is not a leaf. backward() fills .grad "
            "only on leaves that require grad (and on tensors that called retain_grad()): "
            f"the gradient went to the unnamed leaf ({numbers(base.grad)}), and w.grad stays "
            f"None. Make w the leaf and it gets 2w = {numbers(fixed.grad)}. The same slip "
            "(* std, or .to(device), after requires_grad=True) is common when creating "
            "parameters by hand (general knowledge); an optimizer given such a tensor "
            + ("refuses it (above)." if optimizer_says != "accepted it" else "accepts it."))
    answer = decide(printed, choices)
    return {"answer": answer, "metrics": {
        "printed": printed, "warned": int(leaf_warning is not None), "grad_fn": grad_fn,
        "hidden_leaf_grad": numbers(base.grad), "fixed_leaf_grad": numbers(fixed.grad),
        "retain_grad_grad": numbers(kept.grad), "seeds": len(ctx.seeds)}}
