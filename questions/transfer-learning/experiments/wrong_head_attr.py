"""Runs the problem's code as shown and prints what it printed: the output shape of a
MobileNetV2 after `model.fc` is assigned a new 5-class layer.

`weights=None`: the output shape depends on the layers, not on the weights' values. Then it
checks whether forward() ever calls the new `fc`, and what the right replacement gives.
"""

from __future__ import annotations

import contextlib
import io

import torch
from torch import nn

from bot.worker.lab.env import seed_everything

SNIPPET = """\
import torch
from torchvision import models

model = models.mobilenet_v2(weights=None)
model.fc = torch.nn.Linear(1280, 5)  # new head for 5 classes
out = model(torch.randn(2, 3, 224, 224))
print(out.shape)
"""
CHOICES = {"A": "torch.Size([2, 5])", "B": "torch.Size([2, 1000])",
           "C": "AttributeError: 'MobileNetV2' object has no attribute 'fc'",
           "D": "RuntimeError: mat1 and mat2 shapes cannot be multiplied (2x1000 and 1280x5)"}


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


@torch.no_grad()
def inspect_model(model: nn.Module) -> dict[str, int | tuple[int, ...]]:
    """Calls of the stray fc during a forward pass, its size, and the right replacement."""
    calls = 0
    def count(*_):
        nonlocal calls
        calls += 1
    handle = model.fc.register_forward_hook(count)
    model.eval()
    small = torch.randn(2, 3, 64, 64)
    model(small)
    handle.remove()
    in_model = any(p is model.fc.weight for p in model.parameters())
    model.classifier[-1] = nn.Linear(model.classifier[-1].in_features, 5)
    return {"fc_calls": calls, "fc_params": sum(p.numel() for p in model.fc.parameters()),
            "fc_in_parameters": int(in_model), "fixed_shape": tuple(model(small).shape)}


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
    if len(set(letters)) != 1:
        raise RuntimeError(f"the seeds disagree: {outputs}")
    answer = letters[0]
    facts = inspect_model(ns["model"]) if "model" in ns else {}
    if facts:
        ctx.log(f"\nThe new fc during a forward pass was called {facts['fc_calls']} times; "
                f"its {facts['fc_params']:,} parameters are "
                f"{'in' if facts['fc_in_parameters'] else 'not in'} model.parameters(). "
                "MobileNetV2's last layer is model.classifier[-1], "
                f"{ns['model'].classifier[-1].in_features} features in; replacing that instead "
                f"gives {facts['fixed_shape']}.")
    ctx.log("\nWhy: " + EXPLAIN.get(answer, f"the code printed {outputs[0]}."))
    return {"answer": answer, "metrics": {
        "printed": outputs[0], **{k: str(v) for k, v in facts.items()},
        "seeds": len(ctx.seeds)}}


EXPLAIN = {
    "B": ("assigning a module to any attribute of an nn.Module registers it, so no error is "
          "raised, but forward() only calls the layers its code names. MobileNetV2's forward "
          "runs features, pooling and classifier; nothing calls fc, so the output keeps the "
          "1000 ImageNet classes, and the stray layer's parameters would go to the optimizer "
          "and never get a gradient. Find the head by printing the model: here it is "
          "model.classifier[-1] (answer B)."),
}
