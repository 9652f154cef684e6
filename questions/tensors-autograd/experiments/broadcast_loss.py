"""Runs the problem's own code: a (3, 1) prediction minus a (3,) target, squared and averaged.

The snippet is executed exactly as the problem shows it, once per seed (it draws no random
numbers, so every seed must print the same). Then the shapes and the nine differences that
broadcasting produced are printed, and the same loss with the prediction squeezed to (3,).
"""

from __future__ import annotations

import contextlib
import io
import warnings

import torch

from bot.worker.lab.env import seed_everything

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


def execute(code: str) -> tuple[str, list[str]]:
    """Runs the snippet as a fresh module: what it printed (an uncaught error as
    `Type: message`, the way Python ends a traceback) and the warnings it raised."""
    out = io.StringIO()
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(out):
        warnings.simplefilter("always")
        try:
            exec(compile(code, "<problem>", "exec"), {"__name__": "__problem__"})
        except Exception as exc:  # the learner's choices include errors
            print(f"{type(exc).__name__}: {exc}")
    return out.getvalue().strip(), [str(w.message) for w in caught]


def run_per_seed(ctx, code: str) -> tuple[str, list[str]]:
    """Runs the snippet once per seed and logs what it printed; it draws no random numbers,
    so every seed must print the same."""
    outputs, caught = [], []
    for index, seed in enumerate(ctx.seeds):
        seed_everything(seed)
        printed, notes = execute(code)
        outputs.append(printed)
        caught.append(notes)
        ctx.progress(index + 1, len(ctx.seeds), f"seed {seed}")
    same = outputs.count(outputs[0])
    ctx.log(f"The snippet printed: {first_sentence(outputs[0])}")
    ctx.log(f"(the same in {same} of {len(ctx.seeds)} seeds)")
    if same != len(outputs):
        raise RuntimeError(f"the outputs differ between seeds: {outputs}")
    return outputs[0], caught[0]


def first_sentence(text: str) -> str:
    """An error message up to its first full stop or bracket: long enough to recognise."""
    marks = (text.find(". "), text.find(" ("), text.find(": ["))
    cut = min((i for i in marks if i > 0), default=len(text))
    return text[:cut]


def decide(printed: str, choices: dict[str, str] = CHOICES) -> str:
    """The letter whose text is what the code printed (an error matches by its start)."""
    for letter, text in choices.items():
        if printed == text:
            return letter
    for letter, text in choices.items():
        if text.split(":")[0].endswith("Error") and printed.startswith(text):
            return letter
    raise ValueError(f"printed {printed!r}, which matches no choice")


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
