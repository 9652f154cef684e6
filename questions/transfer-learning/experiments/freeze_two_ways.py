"""Two ways to train only a new head on ResNet18: freeze the backbone with requires_grad=False
(optimizer over the parameters that still require grad), or freeze nothing and hand the
optimizer only model.fc's parameters.

Both arms start from the same weights (a copy), see the same batches, use the same optimizer
and rate, and run in train mode. Measured after a few steps: did the backbone's weights
change, did its batch-norm statistics change, how many gradient values were computed and
kept, and the time per step. `weights=None`: none of these depend on the weights' values.
"""

from __future__ import annotations

import copy
import time

import torch
from torch import nn
from torchvision import models

from bot.worker.lab.env import seed_everything

SIZES = {"test": {"steps": 3, "batch": 4, "image": 32},
         "cpu": {"steps": 4, "batch": 8, "image": 64},
         "full": {"steps": 10, "batch": 32, "image": 224}}
ARMS = ("requires_grad=False", "optimizer over fc only")


def run(ctx):
    cfg = {**SIZES[ctx.size], **ctx.params}
    results: dict[str, list[dict]] = {arm: [] for arm in ARMS}
    for index, seed in enumerate(ctx.seeds):
        seed_everything(seed)
        base = models.resnet18(weights=None)
        base.fc = nn.Linear(base.fc.in_features, 10)
        start = copy.deepcopy(base.state_dict())
        gen = torch.Generator().manual_seed(seed)
        batches = [(torch.randn(cfg["batch"], 3, cfg["image"], cfg["image"], generator=gen),
                    torch.randint(0, 10, (cfg["batch"],), generator=gen))
                   for _ in range(cfg["steps"])]
        for arm in ARMS:
            model = copy.deepcopy(base).to(ctx.device)
            results[arm].append(train_arm(model, arm, batches, start, ctx.device))
        ctx.progress(index + 1, len(ctx.seeds), f"seed {seed}")
    return report(ctx, results, cfg)


def train_arm(model, arm: str, batches, start: dict, device: str) -> dict:
    if arm == ARMS[0]:
        for name, param in model.named_parameters():
            param.requires_grad = name.startswith("fc.")
        optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.01,
                                    momentum=0.9)
    else:
        optimizer = torch.optim.SGD(model.fc.parameters(), lr=0.01, momentum=0.9)
    model.train()
    times = []
    for images, labels in batches:
        images, labels = images.to(device), labels.to(device)
        sync(device)
        started = time.perf_counter()
        loss = nn.functional.cross_entropy(model(images), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        sync(device)
        times.append(time.perf_counter() - started)
    state = model.state_dict()
    params = {name for name, _ in model.named_parameters()}
    changed = lambda keep: any(  # noqa: E731
        not torch.equal(value.cpu(), start[name]) for name, value in state.items()
        if keep(name) and "num_batches_tracked" not in name)
    return {
        "backbone_changed": changed(lambda n: n in params and not n.startswith("fc.")),
        "head_changed": changed(lambda n: n.startswith("fc.")),
        "bn_changed": changed(lambda n: n not in params),
        "grad_values": sum(p.grad.numel() for p in model.parameters() if p.grad is not None),
        "step_s": min(times[1:]) if len(times) > 1 else times[0],  # first step warms up
    }


def sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def decide(backbone_changed: tuple[bool, bool], bn_changed: tuple[bool, bool],
           grad_values: tuple[int, int]) -> str:
    """Each argument is (requires_grad=False arm, optimizer-over-fc arm)."""
    if backbone_changed[0]:
        raise RuntimeError("the frozen backbone changed: the experiment is broken")
    if backbone_changed[1]:
        return "B"  # the weights the optimizer was not given changed anyway
    if bn_changed[1] and not bn_changed[0]:
        return "D"
    if grad_values[1] > 10 * grad_values[0]:
        return "A"  # same weights, far more gradient work in the second arm
    return "C"


def report(ctx, results: dict[str, list[dict]], cfg) -> dict:
    every = lambda arm, key: all(r[key] for r in results[arm])  # noqa: E731
    anyof = lambda arm, key: any(r[key] for r in results[arm])  # noqa: E731
    ctx.log(f"ResNet18 (weights=None), new 10-class fc, {cfg['steps']} SGD steps on batches of "
            f"{cfg['batch']} random {cfg['image']}x{cfg['image']} images in train mode, "
            f"seeds {ctx.seeds}:")
    for arm in ARMS:
        r = results[arm]
        ms = sorted(x["step_s"] * 1000 for x in r)[len(r) // 2]
        ctx.log(f"  {arm}: backbone weights changed in {sum(x['backbone_changed'] for x in r)}"
                f" of {len(r)} seeds, fc changed in {sum(x['head_changed'] for x in r)}, "
                f"batch-norm statistics changed in {sum(x['bn_changed'] for x in r)}; "
                f"{r[0]['grad_values']:,} gradient values kept; {ms:.0f} ms per step (median)")
    first, second = results[ARMS[0]], results[ARMS[1]]
    ratio = (sorted(b["step_s"] / a["step_s"] for a, b in zip(first, second, strict=True))
             [len(first) // 2])
    answer = decide((anyof(ARMS[0], "backbone_changed"), anyof(ARMS[1], "backbone_changed")),
                    (every(ARMS[0], "bn_changed"), every(ARMS[1], "bn_changed")),
                    (first[0]["grad_values"], second[0]["grad_values"]))
    ctx.log(f"The second way took {ratio:.1f}x the time per step (median over seeds; wall "
            "clock on a shared machine, so rough) -> answer " + answer + ".")
    timing = (f"and a step took {ratio:.1f}x as long" if ratio >= 1.2 else
              f"though on this busy machine the step times came out {ratio:.1f}x apart")
    ctx.log("\nWhy: " + EXPLAIN[answer].format(
        few=first[0]["grad_values"], many=second[0]["grad_values"], timing=timing))
    return {"answer": answer, "metrics": {
        "grad_values_requires_grad_false": first[0]["grad_values"],
        "grad_values_optimizer_only": second[0]["grad_values"],
        "step_time_ratio": round(ratio, 2),
        "backbone_changed_optimizer_only": int(anyof(ARMS[1], "backbone_changed")),
        "bn_changed_requires_grad_false": int(every(ARMS[0], "bn_changed")),
        "seeds": len(ctx.seeds)}}


EXPLAIN = {
    "A": ("an optimizer only steps the tensors it was given, so in both arms the backbone's "
          "weights stayed put and only fc learned. But autograd does not know which tensors "
          "the optimizer holds: it computes a gradient for every tensor that requires grad. "
          "With requires_grad=False it kept {few:,} gradient values (fc's); with nothing "
          "frozen it kept {many:,}, the whole network's, {timing}. Batch-norm statistics "
          "changed in both arms: neither way of freezing stops them updating in train mode "
          "(answer A)."),
    "B": "the backbone's weights changed in the second arm in this run.",
    "C": "both arms cost the same gradient work in this run ({few:,} vs {many:,} values).",
    "D": "only the second arm changed the batch-norm statistics in this run.",
}
