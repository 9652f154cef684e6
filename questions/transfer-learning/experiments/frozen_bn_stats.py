"""Runs the problem's code as shown and prints what it printed: do frozen batch-norm layers
keep their running statistics in train mode and in eval mode?

`weights=None` gives random weights, but whether batch norm updates its statistics depends on
the module's mode, not on the weights' values, so the answer is the same with ImageNet ones.
"""

from __future__ import annotations

import contextlib
import io

from bot.worker.lab.env import seed_everything

SNIPPET = """\
import torch
from torchvision import models

model = models.resnet18(weights=None)
for p in model.parameters():
    p.requires_grad = False
x = torch.randn(4, 3, 64, 64)
unchanged = []
for train_mode in (True, False):
    model.train(train_mode)
    before = model.bn1.running_mean.clone()
    with torch.no_grad():
        model(x)
    unchanged.append(torch.equal(before, model.bn1.running_mean))
print(unchanged)
"""
CHOICES = {"A": "[True, True]", "B": "[False, True]", "C": "[False, False]",
           "D": "[True, False]"}


def run_snippet(code: str) -> tuple[str, dict]:
    """Runs the code as shown: what it printed (or its error, as a traceback's last line
    reads) and its variables."""
    namespace: dict = {"__name__": "__problem__"}
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(code, "<problem code>", "exec"), namespace)  # noqa: S102
    except Exception as exc:  # noqa: BLE001 - an error is an output the choices may name
        return out.getvalue() + f"{type(exc).__name__}: {exc}", namespace
    return out.getvalue(), namespace


def decide(printed: str, choices: dict[str, str] = CHOICES) -> str:
    """The choice whose text is what the code printed; no match raises."""
    for letter, text in choices.items():
        if printed.strip() == text:
            return letter
    raise ValueError(f"the code printed {printed.strip()!r}, which matches no choice")


def run(ctx):
    choices = ctx.params.get("choices", CHOICES)
    outputs, letters = [], []
    for seed in ctx.seeds:
        seed_everything(seed)
        printed, ns = run_snippet(SNIPPET)
        outputs.append(printed.strip())
        letters.append(decide(printed, choices))
        ctx.progress(len(outputs), len(ctx.seeds), f"seed {seed}")
    ctx.log(f"The code, run as shown with seeds {ctx.seeds}, printed: " + "; ".join(outputs))
    model = ns["model"]
    bn = model.bn1
    frozen = not any(p.requires_grad for p in model.parameters())
    ctx.log(f"\nAfter the two passes (last seed): every parameter frozen: {frozen}; "
            f"bn1.num_batches_tracked = {int(bn.num_batches_tracked)} (only the train-mode "
            f"pass counted); bn1.running_mean now ranges {bn.running_mean.min():.3f} to "
            f"{bn.running_mean.max():.3f} (it starts at 0).")
    if len(set(letters)) != 1:
        raise RuntimeError(f"the seeds disagree: {outputs}")
    answer = letters[0]
    ctx.log("\nWhy: " + EXPLAIN.get(answer, f"the code printed {outputs[0]}."))
    return {"answer": answer, "metrics": {
        "printed": outputs[0], "params_frozen": int(frozen),
        "num_batches_tracked": int(bn.num_batches_tracked),
        "same_in_all_seeds": int(len(set(outputs)) == 1), "seeds": len(ctx.seeds)}}


EXPLAIN = {
    "B": ("a batch-norm layer's running mean and variance are buffers, not parameters: "
          "requires_grad=False and torch.no_grad() only concern gradients, so in train mode "
          "each forward pass still blends the batch's statistics into them (momentum 0.1). "
          "Only eval mode makes batch norm use the stored statistics and leave them alone. "
          "To keep a frozen backbone frozen while the head trains, call backbone.eval() after "
          "every model.train() (answer B)."),
}
