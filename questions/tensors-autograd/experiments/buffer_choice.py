"""Holding a non-trainable tensor (a running mean) in a module: four ways, three requirements.

Each answer choice's way is built into the same tiny module, y = Linear(x - running_mean),
and checked for what the problem asks: (1) saved in state_dict(), (2) converted by
module.to(...), (3) left alone by the optimizer even after model.requires_grad_(True)
unfreezes the model. Same module, inputs and optimizer in every arm; only the way differs.
"""

from __future__ import annotations

import torch
from torch import nn

from bot.worker.lab.env import one_thread, seed_everything

WAYS = {
    "A": "plain attribute",
    "B": "nn.Parameter(requires_grad=False)",
    "C": "register_buffer",
    "D": "register_buffer(persistent=False)",
}


class Centered(nn.Module):
    def __init__(self, way: str) -> None:
        super().__init__()
        self.lin = nn.Linear(8, 2)
        stats = torch.zeros(8)
        if way == "A":
            self.running_mean = stats
        elif way == "B":
            self.running_mean = nn.Parameter(stats, requires_grad=False)
        elif way == "C":
            self.register_buffer("running_mean", stats)
        else:
            self.register_buffer("running_mean", stats, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.lin(x - self.running_mean)


def check(way: str, seed: int, device: str) -> dict[str, bool]:
    seed_everything(seed)
    model = Centered(way)
    listed = any(p is model.running_mean for p in model.parameters())
    saved = "running_mean" in model.state_dict()
    converted = model.to(torch.float64).running_mean.dtype == torch.float64
    moved = True
    if device != "cpu":
        moved = model.to(device).running_mean.device.type == torch.device(device).type
        model.to("cpu")
    model = Centered(way)  # fresh, float32, on the CPU for the optimizer check
    model.requires_grad_(True)  # "unfreeze everything" before fine-tuning
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    before = model.running_mean.detach().clone()
    x = torch.randn(16, 8) + 1.0
    model(x).pow(2).mean().backward()
    optimizer.step()
    untouched = torch.equal(before, model.running_mean.detach())
    return {"saved": saved, "converted": converted and moved, "untouched": untouched,
            "in_parameters": listed}


def decide(checks: dict[str, dict[str, bool]]) -> str:
    """The one way that meets all three requirements."""
    ok = [k for k, c in checks.items() if c["saved"] and c["converted"] and c["untouched"]]
    if len(ok) != 1:
        raise ValueError(f"{len(ok)} ways meet every requirement: {checks}")
    return ok[0]


def yes(flag: bool) -> str:
    return "yes" if flag else "NO"


def run(ctx):
    with one_thread():
        return experiment(ctx)


def experiment(ctx):
    per_seed = []
    for index, seed in enumerate(ctx.seeds):
        per_seed.append({k: check(k, seed, ctx.device) for k in WAYS})
        ctx.progress(index + 1, len(ctx.seeds), f"seed {seed}")
    checks = per_seed[0]
    moved = f" and .to('{ctx.device}')" if ctx.device != "cpu" else ""
    ctx.log(f"Requirements: saved = in state_dict(); converted = follows .to(torch.float64)"
            f"{moved}; untouched = unchanged by SGD after requires_grad_(True) and a step.")
    ctx.log(f"  {'way':36s} saved  converted  untouched  in parameters()")
    for k, label in WAYS.items():
        c = checks[k]
        ctx.log(f"  {k} {label:34s} {yes(c['saved']):6s} {yes(c['converted']):10s} "
                f"{yes(c['untouched']):10s} {'yes' if c['in_parameters'] else 'no'}")
    answer = decide(checks)
    held = sum(c == checks for c in per_seed)
    ctx.log(f"The same table in {held} of {len(ctx.seeds)} seeds.")
    bn_buffers = sorted(dict(nn.BatchNorm1d(8).named_buffers()))
    ctx.log(f"For comparison, nn.BatchNorm1d's buffers: {', '.join(bn_buffers)}.")
    expected = (not checks["A"]["saved"] and not checks["A"]["converted"]
                and checks["B"]["in_parameters"] and not checks["D"]["saved"])
    if not expected:
        raise RuntimeError("the table does not fit the explanation below; update it")
    ctx.log("\nWhy: a module only knows the tensors registered with it. A plain attribute is "
            "invisible to state_dict() and .to(). A Parameter is registered, but it is "
            "listed in parameters(), so anything that walks them (requires_grad_(True), an "
            "optimizer) treats it as a weight: after unfreezing, SGD changed it"
            + (" (above)." if not checks["B"]["untouched"] else ".")
            + " A buffer is saved and converted but never handed to the optimizer; "
            "persistent=False keeps it out of state_dict(), so it would not survive a "
            "checkpoint. BatchNorm keeps its running statistics as buffers (above) for the "
            "same reasons.")
    return {"answer": answer, "metrics": {
        **{f"{k}_{name}": int(v) for k, c in checks.items() for name, v in c.items()},
        "seeds_matching": held, "seeds": len(ctx.seeds)}}
