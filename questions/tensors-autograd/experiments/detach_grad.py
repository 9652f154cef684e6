"""Runs the problem's own code: z = y.detach() * x with y = x * x, then z.backward().

The snippet is executed exactly as the problem shows it, once per seed. Then the same
product without detach, and the gradient each factor contributes, are measured.
"""

from __future__ import annotations

import torch

from bot.worker.lab.snippet import first_sentence, match_choice, run_per_seed

CODE = """\
import torch

x = torch.tensor(3.0, requires_grad=True)
y = x * x
z = y.detach() * x
z.backward()
print(x.grad)
"""

CHOICES = {
    "A": "tensor(27.)",
    "B": "tensor(9.)",
    "C": "tensor(6.)",
    "D": "RuntimeError: element 0 of tensors does not require grad and does not have a "
         "grad_fn",
}


def decide(printed: str, choices: dict[str, str] = CHOICES) -> str:
    """The letter whose text is what the code printed (an error matches by its start)."""
    return match_choice(printed, choices)


def grad_of(detach: bool) -> tuple[float, bool, bool]:
    """x.grad, whether y.detach() requires grad, and whether it shares y's memory."""
    x = torch.tensor(3.0, requires_grad=True)
    y = x * x
    d = y.detach()
    z = (d if detach else y) * x
    z.backward()
    shares = d.untyped_storage().data_ptr() == y.untyped_storage().data_ptr()
    return x.grad.item(), d.requires_grad, shares


def run(ctx):
    choices = ctx.params.get("choices", CHOICES)
    printed, _ = run_per_seed(ctx, CODE)

    detached, d_requires, shares = grad_of(detach=True)
    full, _, _ = grad_of(detach=False)
    ctx.log(f"\nx.grad with y.detach(): {detached:g}; without detach (z = x^3): {full:g}")
    ctx.log(f"y.detach().requires_grad: {d_requires}; shares y's memory: {shares}")
    ctx.log("\nWhy: detach() returns the same values as a tensor cut out of the graph "
            f"(requires_grad {d_requires}), so autograd treats y as the constant "
            f"{detached:g}: z = {detached:g} * x, so dz/dx = {detached:g}. Without detach, "
            f"z = x^3 and dz/dx = 3x^2 = {full:g}: detach removed the path through y, which "
            f"would add 2x * x = {full - detached:g}. z still requires grad through its x "
            "factor, so backward() runs. Use detach for targets or statistics that must not "
            "be trained through (general knowledge).")
    answer = decide(printed, choices)
    return {"answer": answer, "metrics": {
        "printed": first_sentence(printed), "grad_detached": detached, "grad_full": full,
        "detached_requires_grad": int(d_requires), "detached_shares_memory": int(shares),
        "seeds": len(ctx.seeds)}}
