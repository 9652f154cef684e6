"""Flatten + Linear vs global average pooling + Linear on the same conv backbone.

Measures, per seed: the head's weights, whether each network runs on 32x32 images as well
as the 24x24 it was built for, and how much the logits move when the input image is
shifted by 4 pixels (generated shape images from bot.worker.lab.data).
"""

from __future__ import annotations

import statistics

import torch
from torch import nn

from bot.worker.lab.data import make_split
from bot.worker.lab.env import seed_everything

SHIFT = 4
SIZES = {"test": 64, "cpu": 256, "full": 512}


def backbone() -> nn.Sequential:
    """Three conv blocks: a 24x24 image becomes a (64, 3, 3) feature map."""
    layers: list[nn.Module] = []
    for cin, cout in ((1, 16), (16, 32), (32, 64)):
        layers += [nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
    return nn.Sequential(*layers)


def networks(seed: int, device: str) -> dict[str, nn.Sequential]:
    """Both heads on an identical backbone (same seed, same weights)."""
    seed_everything(seed)
    flat = nn.Sequential(backbone(), nn.Flatten(), nn.Linear(64 * 3 * 3, 10))
    seed_everything(seed)
    gap = nn.Sequential(backbone(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10))
    return {"flatten": flat.to(device).eval(), "avgpool": gap.to(device).eval()}


def runs_on(net: nn.Module, size: int, device: str) -> bool:
    try:
        with torch.no_grad():
            net(torch.randn(2, 1, size, size, device=device))
    except RuntimeError:
        return False
    return True


@torch.no_grad()
def shift_change(net: nn.Module, images: torch.Tensor) -> float:
    """Median relative change of the logits when every image is rolled SHIFT pixels right."""
    base = net(images)
    moved = net(torch.roll(images, shifts=SHIFT, dims=3))
    change = (moved - base).norm(dim=1) / base.norm(dim=1).clamp_min(1e-8)
    return float(change.median())


def decide(flat_weights: int, gap_weights: int, flat_runs_32: bool, gap_runs_32: bool,
           flat_shift: float, gap_shift: float) -> str:
    if flat_runs_32:
        raise RuntimeError("the Flatten head ran on 32x32 images: not the problem's network")
    if not gap_runs_32:
        return "B"  # the pooled network would still be tied to one input size
    if gap_weights >= flat_weights:
        return "A"  # no saving in the head
    if gap_shift > flat_shift:
        return "D"  # pooled head more sensitive to where things are
    return "C"


def run(ctx):
    n = SIZES[ctx.size]
    flat_runs, gap_runs, flat_shifts, gap_shifts = [], [], [], []
    for index, seed in enumerate(ctx.seeds):
        nets = networks(seed, ctx.device)
        images = make_split("source", n, seed=seed).images.to(ctx.device)
        flat_runs.append(runs_on(nets["flatten"], 32, ctx.device))
        gap_runs.append(runs_on(nets["avgpool"], 32, ctx.device))
        flat_shifts.append(shift_change(nets["flatten"], images))
        gap_shifts.append(shift_change(nets["avgpool"], images))
        ctx.progress(index + 1, len(ctx.seeds), f"seed {seed}")
    nets = networks(ctx.seeds[0], ctx.device)
    flat_head, gap_head = nets["flatten"][-1], nets["avgpool"][-1]
    flat_w, gap_w = flat_head.weight.numel(), gap_head.weight.numel()
    with torch.no_grad():
        fmap = tuple(nets["flatten"][0](torch.zeros(1, 1, 24, 24, device=ctx.device)).shape[1:])
        fmap32 = tuple(nets["flatten"][0](torch.zeros(1, 1, 32, 32, device=ctx.device)).shape[1:])
    ctx.log(f"Backbone output: {fmap} for 24x24 images, {fmap32} for 32x32.")
    ctx.log(f"  Flatten + Linear({flat_head.in_features}, 10): {flat_w:,} weights + 10 biases; "
            f"runs on 32x32 in {sum(flat_runs)} of {len(ctx.seeds)} seeds")
    ctx.log(f"  AdaptiveAvgPool2d(1) + Linear({gap_head.in_features}, 10): {gap_w:,} weights "
            f"+ 10 biases; runs on 32x32 in {sum(gap_runs)} of {len(ctx.seeds)} seeds")
    fmt = ", ".join
    ctx.log(f"Untrained networks, same backbone weights. Relative logit change when {n} shape "
            f"images are rolled {SHIFT} px sideways (median per seed): flatten "
            f"{fmt(f'{v:.2f}' for v in flat_shifts)}; avgpool "
            f"{fmt(f'{v:.2f}' for v in gap_shifts)}")
    flat_shift, gap_shift = statistics.median(flat_shifts), statistics.median(gap_shifts)
    answer = decide(flat_w, gap_w, any(flat_runs), all(gap_runs), flat_shift, gap_shift)
    ctx.log(f"\nWhy: Flatten hands the Linear one input per channel *and position* "
            f"(64 x 3 x 3 = {flat_head.in_features}), so the head has {flat_w // gap_w}x the "
            f"weights and is wired to a 3x3 map: a 32x32 image gives {fmap32[1]}x{fmap32[2]} "
            f"and a shape error. Averaging each channel over all positions leaves 64 numbers "
            f"whatever the image size, and it discards where a feature fired, so a shift moves "
            f"the logits less ({gap_shift:.2f} vs {flat_shift:.2f}, median).")
    return {"answer": answer, "metrics": {
        "flatten_weights": flat_w, "avgpool_weights": gap_w,
        "flatten_runs_32": int(all(flat_runs)), "avgpool_runs_32": int(all(gap_runs)),
        "flatten_shift": round(flat_shift, 4), "avgpool_shift": round(gap_shift, 4),
        "seeds": len(ctx.seeds)}}
