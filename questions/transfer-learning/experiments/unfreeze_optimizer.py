"""Runs the problem's code as shown and prints what it printed: does unfreezing a block after
the optimizer was built make the optimizer update it?

`weights=None`: which tensors the optimizer holds and steps does not depend on their values.
Then it shows that the unfrozen block did get gradients, and that adding it to the optimizer
as a new parameter group makes the next step change it.
"""

from __future__ import annotations

import contextlib
import io

import torch

from bot.worker.lab.env import seed_everything

SNIPPET = """\
import torch
from torchvision import models

model = models.resnet18(weights=None)
for p in model.parameters():
    p.requires_grad = False
model.fc = torch.nn.Linear(512, 10)
optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
for p in model.layer4.parameters():  # later: unfreeze the last block
    p.requires_grad = True
w = model.layer4[1].conv2.weight
before = w.clone()
model(torch.randn(4, 3, 64, 64)).sum().backward()
optimizer.step()
print(len(optimizer.param_groups[0]["params"]), torch.equal(before, w))
"""
CHOICES = {"A": "2 True", "B": "2 False", "C": "17 False",
           "D": "ValueError: optimizer got an empty parameter list"}


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


def fix(ns: dict) -> dict[str, float | int]:
    """What the snippet left behind, then the fix: add layer4 as a new parameter group."""
    model, optimizer = ns["model"], ns["optimizer"]
    weight = model.layer4[1].conv2.weight
    grad_norm = float(weight.grad.norm()) if weight.grad is not None else 0.0
    layer4 = list(model.layer4.parameters())
    optimizer.add_param_group({"params": layer4, "lr": 0.01})
    before = weight.detach().clone()
    optimizer.zero_grad()
    model(torch.randn(4, 3, 64, 64)).sum().backward()
    optimizer.step()
    return {"grad_norm": grad_norm, "layer4_tensors": len(layer4),
            "changed_after_fix": int(not torch.equal(before, weight))}


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
    facts = fix(ns) if "optimizer" in ns else {}
    if facts:
        ctx.log(f"\nAfter the step, layer4[1].conv2.weight.grad has norm "
                f"{facts['grad_norm']:.3g}: the gradient was computed, but the optimizer "
                f"holds only fc's weight and bias. Adding layer4's {facts['layer4_tensors']} "
                "tensors with optimizer.add_param_group({'params': ..., 'lr': 0.01}), the "
                f"next step {'changes' if facts['changed_after_fix'] else 'still leaves'} "
                "the weight.")
    ctx.log("\nWhy: " + EXPLAIN.get(answer, f"the code printed {outputs[0]}."))
    return {"answer": answer, "metrics": {"printed": outputs[0], **facts,
                                          "seeds": len(ctx.seeds)}}


EXPLAIN = {
    "A": ("the list comprehension ran once, when the optimizer was built, and kept the two "
          "tensors that required grad then: the new fc's weight and bias. Setting "
          "requires_grad=True later makes autograd compute layer4's gradients, but "
          "optimizer.step() only updates the tensors in its param_groups, so layer4 stays "
          "as it was. When you unfreeze in stages, add the newly trainable parameters with "
          "optimizer.add_param_group (usually at a lower rate), or build a new optimizer "
          "(answer A)."),
}
