"""Runs the problem's own code: a (3, 1) prediction minus a (3,) target, squared and averaged.

The snippet is executed exactly as the problem shows it, once per seed (it draws no random
numbers, so every seed must print the same). Then the shapes and the nine differences that
broadcasting produced are printed, and the same loss with the prediction squeezed to (3,).
"""

from __future__ import annotations

import warnings

import torch

from bot.worker.lab.snippet import match_choice, run_per_seed

CODE = """\
import torch

target = torch.tensor([1., 2., 3.])
pred = target.unsqueeze(1)          # a model's output, shape (3, 1)
loss = ((pred - target) ** 2).mean()
print(round(loss.item(), 4))
"""

CHOICES = {
    "A": "0.0",
    "B": "1.3333",
    "C": "RuntimeError: The size of tensor a (3) must match the size of tensor b",
    "D": "4.0",
}


def decide(printed: str, choices: dict[str, str] = CHOICES) -> str:
    """The letter whose text is what the code printed (an error matches by its start)."""
    return match_choice(printed, choices)


def run(ctx):
    choices = ctx.params.get("choices", CHOICES)
    printed, _ = run_per_seed(ctx, CODE)

    target = torch.tensor([1., 2., 3.])
    pred = target.unsqueeze(1)
    diff = pred - target
    squares = (diff ** 2).flatten().tolist()
    ctx.log(f"Shapes: pred {tuple(pred.shape)}, target {tuple(target.shape)}, "
            f"pred - target {tuple(diff.shape)}.")
    ctx.log("Squared differences, row i = pred[i] - every target: "
            + " | ".join(" ".join(f"{v:g}" for v in squares[r * 3:r * 3 + 3]) for r in range(3)))
    total, count = sum(squares), len(squares)
    squeezed = ((pred.squeeze(1) - target) ** 2).mean().item()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        functional = torch.nn.functional.mse_loss(pred, target).item()
    warned = any("broadcasting" in str(w.message) for w in caught)

    same_as_mse = abs(functional - total / count) < 1e-6
    ctx.log(f"\nWhy: shapes are aligned from the right, and a size-1 dimension stretches: "
            f"{tuple(pred.shape)} against {tuple(target.shape)} gives {tuple(diff.shape)}, so "
            f"every prediction is compared with every target. The {count} squares sum to "
            f"{total:g}, and .mean() divides by {count}: {total:g} / {count} = "
            f"{total / count:.4f}. "
            f"Squeezing pred to (3,) first gives {squeezed:g}, the loss the author meant. "
            f"F.mse_loss(pred, target) returns {functional:.4f}"
            + (", the same broadcast loss," if same_as_mse else ",")
            + (" and warns that the sizes differ." if warned else " without a warning."))
    answer = decide(printed, choices)
    return {"answer": answer, "metrics": {
        "printed": printed, "diff_rows": diff.shape[0], "diff_cols": diff.shape[1],
        "squeezed_loss": squeezed, "mse_loss_warns": int(warned),
        "seeds": len(ctx.seeds)}}
