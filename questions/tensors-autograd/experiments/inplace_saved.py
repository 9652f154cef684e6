"""Runs the problem's own code: an in-place add to a tensor that a later op saved.

The snippet is executed exactly as the problem shows it, once per seed. Then the version
counter autograd checks is read, and two neighbours are run: the same add done out of place,
and the same in-place add on a tensor no backward formula needs.
"""

from __future__ import annotations

import torch

from bot.worker.lab.snippet import first_sentence, match_choice, run_per_seed

CODE = """\
import torch

a = torch.tensor([1., 2., 3.], requires_grad=True)
b = a * 2
c = b ** 2
b.add_(1)
c.sum().backward()
print(a.grad)
"""

CHOICES = {
    "A": "tensor([ 8., 16., 24.])",
    "B": "tensor([12., 20., 28.])",
    "C": "RuntimeError: one of the variables needed for gradient computation has been "
         "modified by an inplace operation",
    "D": "RuntimeError: a leaf Variable that requires grad is being used in an in-place "
         "operation",
}


def decide(printed: str, choices: dict[str, str] = CHOICES) -> str:
    """The letter whose text is what the code printed (an error matches by its start)."""
    return match_choice(printed, choices)


def versions() -> tuple[int, int, bool]:
    """b's version before and after add_, and whether c's backward node holds b itself."""
    a = torch.tensor([1., 2., 3.], requires_grad=True)
    b = a * 2
    holds = (b ** 2).grad_fn._saved_self is b
    before = b._version
    b.add_(1)
    return before, b._version, holds


def out_of_place() -> list[float]:
    a = torch.tensor([1., 2., 3.], requires_grad=True)
    b = a * 2
    c = b ** 2
    b = b + 1  # a new tensor; the one c saved is untouched
    c.sum().backward()
    return a.grad.tolist()


def unsaved() -> list[float]:
    a = torch.tensor([1., 2., 3.], requires_grad=True)
    b = a * 2
    d = b * 3  # multiplying by a constant needs only the constant, not b
    b.add_(1)
    d.sum().backward()
    return a.grad.tolist()


def stale_formula() -> list[float]:
    """What c's backward formula, 2b times b's own 2, gives if fed the changed b."""
    a = torch.tensor([1., 2., 3.])
    return (2 * (a * 2 + 1) * 2).tolist()


def numbers(values: list[float]) -> str:
    return "[" + ", ".join(f"{v:g}" for v in values) + "]"


def run(ctx):
    choices = ctx.params.get("choices", CHOICES)
    printed, _ = run_per_seed(ctx, CODE)

    before, after, holds = versions()
    kept, safe, stale = out_of_place(), unsaved(), stale_formula()
    ctx.log(f"\nc.grad_fn holds b itself (_saved_self is b): {holds}")
    ctx.log(f"b._version before b.add_(1): {before}, after: {after}")
    ctx.log(f"same add out of place (b = b + 1): a.grad = {numbers(kept)}")
    ctx.log(f"in-place add on b when only d = b * 3 uses it: a.grad = {numbers(safe)}")
    ctx.log("\nWhy: c = b ** 2 keeps a reference to b, because its gradient 2b needs b's "
            f"value. Every in-place op bumps a tensor's version ({before} -> {after}); at "
            "backward time autograd sees that the b it saved has changed and refuses, rather "
            f"than silently use b + 1 (the formula would then give {numbers(stale)}). Done out of "
            f"place, the gradient is the true d(sum 4a^2)/da = 8a = {numbers(kept)}. An "
            "in-place op is only a problem when a backward formula saved that tensor: with "
            f"d = b * 3 the same add_ is fine ({numbers(safe)}). The in-place op is on b, "
            "not on the leaf a, so the leaf error does not apply.")
    answer = decide(printed, choices)
    return {"answer": answer, "metrics": {
        "printed": first_sentence(printed)[:120], "pow_saves_b": int(holds),
        "version_before": before,
        "version_after": after, "grad_out_of_place": numbers(kept),
        "grad_unsaved_inplace": numbers(safe), "seeds": len(ctx.seeds)}}
