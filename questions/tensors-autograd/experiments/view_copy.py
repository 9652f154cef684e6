"""Runs the problem's own code: a view and a clone of the same tensor, each written to.

The snippet is executed exactly as the problem shows it, once per seed. Then the storage
each tensor points at is compared, which is what decides whether a write shows through.
"""

from __future__ import annotations

import torch

from bot.worker.lab.snippet import match_choice, run_per_seed

CODE = """\
import torch

a = torch.arange(6)
b = a.view(2, 3)
c = a.clone()
b[0, 0] = 100
c[1] = -1
print(a[0].item(), a[1].item())
"""

CHOICES = {"A": "100 1", "B": "0 1", "C": "100 -1", "D": "0 -1"}


def decide(printed: str, choices: dict[str, str] = CHOICES) -> str:
    """The letter whose text is what the code printed (an error matches by its start)."""
    return match_choice(printed, choices)


def run(ctx):
    choices = ctx.params.get("choices", CHOICES)
    printed, _ = run_per_seed(ctx, CODE)

    a = torch.arange(6)
    b, c = a.view(2, 3), a.clone()
    shares_b = b.untyped_storage().data_ptr() == a.untyped_storage().data_ptr()
    shares_c = c.untyped_storage().data_ptr() == a.untyped_storage().data_ptr()
    ctx.log(f"Same storage as a: view {shares_b}, clone {shares_c}. "
            f"b._base is a: {b._base is a}; c._base: {c._base}.")
    t = a.view(2, 3).t()
    r = t.reshape(6)
    r_shares = r.untyped_storage().data_ptr() == a.untyped_storage().data_ptr()
    try:
        t.view(6)
        view_raises = False
    except RuntimeError:
        view_raises = True
    ctx.log(f"For comparison: a.view(2, 3).t() is contiguous: {t.is_contiguous()}; "
            f"reshape(6) of it shares a's storage: {r_shares}; view(6) of it raises: "
            f"{view_raises}.")
    if not shares_b or shares_c or r_shares or not view_raises:
        raise RuntimeError("storage sharing is not what the explanation below says")
    ctx.log("\nWhy: view() returns a new tensor header (shape, strides) over the *same* "
            f"memory (shared: {shares_b}), so b[0, 0] = 100 writes into a. clone() copies "
            f"the data into new memory (shared: {shares_c}), so c[1] = -1 leaves a alone. "
            "reshape() returns a view when the strides allow it and a copy otherwise, as the "
            f"transposed case shows (shared: {r_shares}); only view() guarantees sharing "
            "(on the transposed tensor it raises instead of copying).")
    answer = decide(printed, choices)
    return {"answer": answer, "metrics": {
        "printed": printed, "view_shares_storage": int(shares_b),
        "clone_shares_storage": int(shares_c), "reshape_of_transpose_shares": int(r_shares),
        "view_of_transpose_raises": int(view_raises),
        "seeds": len(ctx.seeds)}}
