"""Model choice for a 500-image task: what a small and a large pretrained model cost and gain.

Two measurements, reported separately so it is clear what each says:
1. The real architectures, MobileNetV2 and ResNet152 from torchvision: parameters, time per
   training step and activation memory, measured here (weights do not change these), with
   ImageNet accuracy and FLOPs from torchvision's published metadata.
2. Accuracy on a 500-image task with the same training compute, fine-tuning a small and a
   4x-larger pretrained stand-in (ImageNet models cannot be fine-tuned offline without their
   weights) vs training from scratch.
The answer is the cheapest option whose accuracy is within a tolerance of the best.
"""

from __future__ import annotations

import time

import torch
from torch import nn
from torchvision import models

from bot.worker.lab.data import target_splits
from bot.worker.lab.env import seed_everything
from bot.worker.lab.finetune import (
    LARGE,
    SMALL,
    layerwise_adamw,
    mean,
    pct,
    per_seed,
    pretrained,
    scratch_model,
)
from bot.worker.lab.nets import count_params
from bot.worker.lab.train import train_steps
from bot.worker.lab.weights import on_disk

SIZES = {
    "test": {"train": 500, "val": 500, "steps": 100, "image": 64, "batch": 2, "timed": 2},
    "cpu": {"train": 500, "val": 1000, "steps": 150, "image": 96, "batch": 4, "timed": 3},
    "full": {"train": 500, "val": 2000, "steps": 300, "image": 224, "batch": 32, "timed": 10},
}
TOLERANCE = 0.02  # accuracy differences below 2 points are within seed-to-seed noise here
ARCHS = {
    "MobileNetV2": (models.mobilenet_v2, models.MobileNet_V2_Weights.IMAGENET1K_V1),
    "ResNet152": (models.resnet152, models.ResNet152_Weights.IMAGENET1K_V1),
}


def run(ctx):
    cfg = {**SIZES[ctx.size], **ctx.params}
    arch = {name: measure_arch(ctx, name, cfg) for name in ARCHS}
    acc = finetune_standins(ctx, cfg)
    return report(ctx, cfg, arch, acc)


def measure_arch(ctx, name: str, cfg) -> dict[str, float]:
    build, weights = ARCHS[name]
    ctx.progress(0, 1, f"timing {name}")
    model = build(weights=None).to(ctx.device)  # timing and memory do not depend on values
    meta = weights.meta
    facts = {"params": count_params(model), "gflops": float(meta.get("_ops", 0.0)),
             "top1": float(meta["_metrics"]["ImageNet-1K"]["acc@1"]),
             "weights_on_disk": on_disk(weights)}
    facts.update(time_steps(model, cfg, ctx.device))
    del model
    return facts


def time_steps(model: nn.Module, cfg, device: str) -> dict[str, float]:
    """Seconds per SGD step at the configured input size, and activation memory in MB."""
    images = torch.randn(cfg["batch"], 3, cfg["image"], cfg["image"], device=device)
    labels = torch.zeros(cfg["batch"], dtype=torch.long, device=device)
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3)
    activation_mb = activation_memory_mb(model, images)
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    step(model, optimizer, images, labels)  # warm-up: allocator and kernel selection
    sync(device)
    started = time.perf_counter()
    for _ in range(cfg["timed"]):
        step(model, optimizer, images, labels)
    sync(device)
    seconds = (time.perf_counter() - started) / cfg["timed"]
    if device == "cuda":
        activation_mb = torch.cuda.max_memory_allocated() / 2**20
    return {"step_s": seconds, "memory_mb": activation_mb}


def step(model, optimizer, images, labels) -> None:
    loss = nn.functional.cross_entropy(model(images), labels)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()


def sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


@torch.no_grad()
def activation_memory_mb(model: nn.Module, images: torch.Tensor) -> float:
    """Sum of every leaf layer's output: roughly what a training step keeps for backward."""
    total = 0
    def hook(_module, _inputs, output):
        nonlocal total
        total += output.numel() * output.element_size()
    handles = [m.register_forward_hook(hook) for m in model.modules()
               if not list(m.children())]
    model(images)
    for handle in handles:
        handle.remove()
    return total / 2**20


def macs_per_image(model: nn.Module, image: int = 24) -> int:
    """Multiply-accumulates of the conv and linear layers for one image."""
    total = 0
    def hook(module, _inputs, output):
        nonlocal total
        if isinstance(module, nn.Conv2d):
            per_out = module.in_channels // module.groups * module.kernel_size[0] ** 2
            total += output[0].numel() * per_out
        elif isinstance(module, nn.Linear):
            total += module.in_features * module.out_features
    handles = [m.register_forward_hook(hook) for m in model.modules()]
    with torch.no_grad():
        model.eval()(torch.zeros(1, 1, image, image))
    for handle in handles:
        handle.remove()
    return total


def finetune_standins(ctx, cfg) -> dict[str, list[float]]:
    """Final validation accuracy per seed for each option, at an equal compute budget."""
    small, large = pretrained(ctx, SMALL), pretrained(ctx, LARGE)
    ctx.log(small.describe())
    ctx.log(large.describe())
    ratio = macs_per_image(large.model(10, "cpu")) / macs_per_image(small.model(10, "cpu"))
    # Same training compute for each: the large model does `ratio` times the work per step.
    steps = {"small pretrained": cfg["steps"], "from scratch": cfg["steps"],
             "large pretrained": max(1, round(cfg["steps"] / ratio))}
    ctx.log(f"The large stand-in does {ratio:.1f}x the work per image, so with the same "
            f"training compute it gets {steps['large pretrained']} steps to the small "
            f"one's {cfg['steps']}.")
    acc: dict[str, list[float]] = {"small pretrained": [], "large pretrained": [],
                                   "from scratch": []}
    total = len(acc) * len(ctx.seeds)
    for seed in ctx.seeds:
        train, val = target_splits(cfg["train"], cfg["val"], seed=seed)
        for option in acc:
            seed_everything(seed)
            model, lrs = build_option(option, small, large, ctx.device)
            curve = train_steps(model, layerwise_adamw(model, *lrs), train,
                                steps=steps[option], batch=32, device=ctx.device, seed=seed,
                                val=val, eval_every=steps[option])
            acc[option].append(curve.val_acc[-1])
            ctx.progress(sum(map(len, acc.values())), total, f"seed {seed}: {option}")
    return acc


def build_option(option: str, small, large, device: str):
    if option == "small pretrained":
        return small.model(10, device), (1e-3, 1e-2)
    if option == "large pretrained":
        return large.model(10, device), (1e-3, 1e-2)
    return scratch_model(SMALL.width, 10, device), (3e-3, 3e-3)


def report(ctx, cfg, arch: dict[str, dict], acc: dict[str, list[float]]) -> dict:
    mobile, resnet = arch["MobileNetV2"], arch["ResNet152"]
    ctx.log(f"\nThe real models ({ctx.device}, batch {cfg['batch']} at {cfg['image']}x"
            f"{cfg['image']}, measured here; ImageNet top-1 and GFLOPs from torchvision):")
    for name, facts in arch.items():
        ctx.log(f"  {name}: {facts['params'] / 1e6:.1f}M parameters, {facts['step_s'] * 1000:.0f}"
                f" ms per training step, {facts['memory_mb']:.0f} MB "
                f"{'peak GPU memory' if ctx.device == 'cuda' else 'of activations'}, "
                f"{facts['gflops']:.2f} GFLOPs, ImageNet top-1 {facts['top1']:.1f}%")
    slower = resnet["step_s"] / mobile["step_s"]
    ctx.log(f"  ResNet152 has {resnet['params'] / mobile['params']:.0f}x the parameters and was "
            f"{slower:.1f}x slower per step.")
    ctx.log(f"\nFine-tuning on {cfg['train']} images with the same training compute, final "
            f"validation accuracy (seeds {ctx.seeds}):")
    for option, values in acc.items():
        ctx.log(f"  {option}: {pct(mean(values))} [{per_seed(values)}]")
    cost = {"A": mobile["step_s"], "B": mobile["step_s"], "C": mobile["step_s"],
            "D": resnet["step_s"]}
    accuracy = {"A": mean(acc["from scratch"]), "B": mean(acc["small pretrained"]),
                "C": mean(acc["from scratch"]), "D": mean(acc["large pretrained"])}
    answer = derive(accuracy, cost)
    ctx.log(f"\n{EXPLAIN.get(answer, '')} Rule: the cheapest option within "
            f"{TOLERANCE:.0%} of the best accuracy.")
    return {"answer": answer, "metrics": {
        "mobilenet_params": mobile["params"], "resnet152_params": resnet["params"],
        "mobilenet_step_ms": round(mobile["step_s"] * 1000, 1),
        "resnet152_step_ms": round(resnet["step_s"] * 1000, 1),
        "step_time_ratio": round(slower, 2),
        "mobilenet_memory_mb": round(mobile["memory_mb"], 1),
        "resnet152_memory_mb": round(resnet["memory_mb"], 1),
        "small_pretrained_acc": round(accuracy["B"], 4),
        "large_pretrained_acc": round(accuracy["D"], 4),
        "scratch_acc": round(accuracy["A"], 4), "seeds": len(ctx.seeds)}}


def derive(accuracy: dict[str, float], cost: dict[str, float]) -> str:
    best = max(accuracy.values())
    good_enough = [k for k, v in accuracy.items() if v >= best - TOLERANCE]
    # Ties in cost go to the more accurate option, then to the letter.
    return min(good_enough, key=lambda k: (cost[k], -accuracy[k], k))


EXPLAIN = {
    "B": ("For the same training compute the small pretrained model was as accurate as the "
          "large one or better, and far above training from scratch; each of its steps costs "
          "a fraction of a ResNet152 step. MobileNetV2 is the balance (answer B)."),
    "D": "Here the large pretrained model was clearly more accurate, worth its cost.",
}
