"""What torch.no_grad() changes, measured: graph, saved activations, modes, parameters, dtype.

A small MLP with dropout, in train mode, runs the same batch with grad enabled and inside
torch.no_grad(). Measured: whether the output has a grad_fn and requires grad, how many bytes
autograd saved for backward (counted with torch.autograd.graph.saved_tensors_hooks), whether
dropout was still active, the parameters' requires_grad afterwards, and the output dtype.
torch.inference_mode() is measured alongside.
"""

from __future__ import annotations

import contextlib

import torch
from torch import nn

from bot.worker.lab.env import seed_everything

SIZES = {"test": {"batch": 256}, "cpu": {"batch": 1024}, "full": {"batch": 4096}}
CONTEXTS = {"grad enabled": contextlib.nullcontext, "torch.no_grad()": torch.no_grad,
            "torch.inference_mode()": torch.inference_mode}


def forward(model: nn.Module, x: torch.Tensor, context) -> dict:
    saved = []

    def pack(t: torch.Tensor) -> torch.Tensor:
        saved.append(t.numel() * t.element_size())
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t), context():
        out = model(x)
        zeroed = float((model[2](torch.ones(10_000, device=x.device)) == 0).float().mean())
    return {"saved_bytes": sum(saved), "grad_fn": out.grad_fn is not None,
            "requires_grad": out.requires_grad, "dropout_zeroed": zeroed,
            "params_trainable": all(p.requires_grad for p in model.parameters()),
            "dtype": str(out.dtype).replace("torch.", "")}


def shape(row: dict) -> tuple:
    """What must not change with the seed (dropout's exact fraction may)."""
    return (row["saved_bytes"], row["grad_fn"], row["requires_grad"],
            row["dropout_zeroed"] > 0.3, row["params_trainable"], row["dtype"])


def decide(saved_grad: int, saved_no_grad: int, dropout_zeroed: float, params_trainable: bool,
           dtype: str) -> str:
    """Maps what changed under no_grad to the choice that describes it."""
    if not params_trainable:
        return "B"  # the parameters were frozen
    if dropout_zeroed < 0.01:
        return "A"  # dropout switched off, as model.eval() would
    if dtype != "float32":
        return "C"  # the forward pass ran in lower precision
    if saved_no_grad == 0 and saved_grad > 0:
        return "D"  # nothing recorded for backward, layers as they were
    raise ValueError("no_grad changed nothing that a choice describes")


def run(ctx):
    cfg = {**SIZES[ctx.size], **ctx.params}
    rows = {name: [] for name in CONTEXTS}
    for index, seed in enumerate(ctx.seeds):
        seed_everything(seed)
        model = nn.Sequential(nn.Linear(256, 512), nn.ReLU(), nn.Dropout(0.5),
                              nn.Linear(512, 10)).to(ctx.device).train()
        x = torch.randn(cfg["batch"], 256, device=ctx.device)
        for name, context in CONTEXTS.items():
            rows[name].append(forward(model, x, context))
        ctx.progress(index + 1, len(ctx.seeds), f"seed {seed}")
    ctx.log(f"MLP with Dropout(0.5) in train mode, batch of {cfg['batch']}, seeds {ctx.seeds}:")
    for name, runs in rows.items():
        r = runs[0]
        agree = sum(shape(run) == shape(r) for run in runs)
        ctx.log(f"  {name:<23} saved for backward {r['saved_bytes'] / 2**20:.2f} MiB, "
                f"grad_fn {'yes' if r['grad_fn'] else 'none'}, requires_grad "
                f"{r['requires_grad']}, dropout zeroed {r['dropout_zeroed']:.0%}, "
                f"params trainable {r['params_trainable']}, output {r['dtype']} "
                f"(alike in {agree} of {len(runs)} seeds)")
    grad, off = rows["grad enabled"][0], rows["torch.no_grad()"][0]
    answer = decide(grad["saved_bytes"], off["saved_bytes"], off["dropout_zeroed"],
                    off["params_trainable"], off["dtype"])
    if answer == "D":
        ctx.log(f"\nWhy: with grad enabled, autograd records each op and keeps the tensors its "
                f"backward will need ({grad['saved_bytes'] / 2**20:.2f} MiB for this batch). "
                "Under no_grad() nothing is recorded: the output has no grad_fn, "
                "requires_grad is False, and nothing is saved, which is where the memory "
                "saving comes from. It does not touch the modules: dropout still zeroed "
                f"{off['dropout_zeroed']:.0%} of its inputs, because that is model.train()'s "
                "job, and the parameters still require grad afterwards. For validation use "
                "both, model.eval() and no_grad() (or inference_mode(), which also records "
                "nothing here).")
    return {"answer": answer, "metrics": {
        "saved_mib_grad": round(grad["saved_bytes"] / 2**20, 4),
        "saved_mib_no_grad": round(off["saved_bytes"] / 2**20, 4),
        "dropout_zeroed_no_grad": round(off["dropout_zeroed"], 4),
        "params_trainable_after": int(off["params_trainable"]), "seeds": len(ctx.seeds)}}
