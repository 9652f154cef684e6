"""Model choice for a 500-image task: what a small and a large pretrained model cost and gain.

Two measurements, reported separately so it is clear what each says:
1. The real architectures, MobileNetV2 and ResNet152 from torchvision: parameters, time per
   training step and activation memory, measured here (weights do not change these), with
   ImageNet accuracy and FLOPs from torchvision's published metadata.
2. Accuracy on a 500-image task, one arm per choice, all trained for the same number of
   steps: B and D fine-tune a small and a 4x-larger stand-in network, pretrained with the
   same budget; A puts random weights through B's fine-tuning recipe (so only the weights
   differ), and C trains the small network from scratch with a recipe made for that.
   Training 24x24 images for seconds needs small networks, so the stand-ins take the place
   of MobileNetV2 and ResNet152 here.
Cost is counted once, as the measured time per training step of the real architecture each
choice names. The answer is the cheapest option whose accuracy is within a tolerance of the
best; between options of equal cost, the more accurate one.
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
    "test": {"train": 500, "val": 300, "steps": 60, "image": 64, "batch": 2, "timed": 2},
    "cpu": {"train": 500, "val": 300, "steps": 60, "image": 64, "batch": 2, "timed": 2},
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


PRETRAINED_LRS, SCRATCH_LRS = (1e-3, 1e-2), (3e-3, 3e-3)
# One arm per choice: (network, start, learning rates for backbone and head). A and C both
# have no pre-training: A is the fine-tuning recipe with random weights, C training from
# scratch with one rate for every layer, which suits random weights better.
ARMS = {"A": ("small", "random", PRETRAINED_LRS), "B": ("small", "pretrained", PRETRAINED_LRS),
        "C": ("small", "random", SCRATCH_LRS), "D": ("large", "pretrained", PRETRAINED_LRS)}
ARM_LABELS = {"A": "small, random init, fine-tuning recipe", "B": "small, pretrained",
              "C": "small, from scratch", "D": "large, pretrained"}


def finetune_standins(ctx, cfg) -> dict[str, list[float]]:
    """Final validation accuracy per seed for each choice's arm, after the same steps."""
    nets = {"small": pretrained(ctx, SMALL), "large": pretrained(ctx, LARGE)}
    ctx.log(nets["small"].describe())
    ctx.log(f"The large stand-in is {LARGE.width} wide, pretrained the same way "
            f"({LARGE.steps} steps on the same source task; {nets['large'].source_accuracy:.0%}"
            " accuracy there).")
    ratio = (macs_per_image(nets["large"].model(10, "cpu"))
             / macs_per_image(nets["small"].model(10, "cpu")))
    ctx.log(f"It does {ratio:.1f}x the work per image. Every arm gets the same {cfg['steps']} "
            f"steps of batch 32. The fine-tuning recipe (A, B, D): AdamW at "
            f"{PRETRAINED_LRS[0]:g} for the backbone and {PRETRAINED_LRS[1]:g} for the new "
            f"head. From scratch (C): {SCRATCH_LRS[0]:g} for every layer.")
    acc: dict[str, list[float]] = {letter: [] for letter in ARMS}
    total = len(acc) * len(ctx.seeds)
    for seed in ctx.seeds:
        train, val = target_splits(cfg["train"], cfg["val"], seed=seed)
        for letter, (size, start, lrs) in ARMS.items():
            seed_everything(seed)
            recipe = SMALL if size == "small" else LARGE
            model = (nets[size].model(10, ctx.device) if start == "pretrained"
                     else scratch_model(recipe.width, 10, ctx.device))
            curve = train_steps(model, layerwise_adamw(model, *lrs), train,
                                steps=cfg["steps"], batch=32, device=ctx.device, seed=seed,
                                val=val, eval_every=cfg["steps"])
            acc[letter].append(curve.val_acc[-1])
            ctx.progress(sum(map(len, acc.values())), total, f"seed {seed}: {letter}")
    return acc


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
    ctx.log(f"\nFine-tuning on {cfg['train']} images for {cfg['steps']} steps, final "
            f"validation accuracy (seeds {ctx.seeds}):")
    for letter, values in acc.items():
        ctx.log(f"  {letter}) {ARM_LABELS[letter]}: {pct(mean(values))} [{per_seed(values)}]")
    # Cost, counted once: the step time of the real network each choice stands for (A and C
    # name none; they are trained as the small network here).
    cost = {"A": mobile["step_s"], "B": mobile["step_s"], "C": mobile["step_s"],
            "D": resnet["step_s"]}
    accuracy = {letter: mean(values) for letter, values in acc.items()}
    answer = derive(accuracy, cost)
    ctx.log(f"\nRule: the cheapest option (a ResNet152 step for D, a MobileNetV2 step for the "
            f"others) within {TOLERANCE:.0%} of the best accuracy; between equal costs, the "
            f"more accurate. {explain(answer, accuracy, slower)}")
    return {"answer": answer, "metrics": {
        "mobilenet_params": mobile["params"], "resnet152_params": resnet["params"],
        "mobilenet_step_ms": round(mobile["step_s"] * 1000, 1),
        "resnet152_step_ms": round(resnet["step_s"] * 1000, 1),
        "step_time_ratio": round(slower, 2),
        "mobilenet_memory_mb": round(mobile["memory_mb"], 1),
        "resnet152_memory_mb": round(resnet["memory_mb"], 1),
        "small_pretrained_acc": round(accuracy["B"], 4),
        "large_pretrained_acc": round(accuracy["D"], 4),
        "scratch_acc": round(accuracy["C"], 4), "large_scratch_acc": round(accuracy["A"], 4),
        "seeds": len(ctx.seeds)}}


def derive(accuracy: dict[str, float], cost: dict[str, float],
           tolerance: float = TOLERANCE) -> str:
    """The cheapest choice within `tolerance` of the best accuracy; equal costs go to the
    more accurate one (then to the letter, for exact ties)."""
    best = max(accuracy.values())
    good_enough = [k for k, v in accuracy.items() if v >= best - tolerance]
    return min(good_enough, key=lambda k: (cost[k], -accuracy[k], k))


def explain(answer: str, accuracy: dict[str, float], slower: float) -> str:
    gain = accuracy["D"] - accuracy["B"]
    if answer == "B":
        lead = accuracy["B"] - max(accuracy["A"], accuracy["C"])
        return (f"The small pretrained network came within {TOLERANCE:.0%} of the best "
                f"(the large pretrained one differed by {gain:+.1%}) and beat both random "
                f"starts by {lead:.1%}, while each ResNet152 step took {slower:.1f}x as long "
                "as a MobileNetV2 step here. So B is the balance.")
    if answer == "D":
        return (f"The large pretrained network was {gain:.1%} more accurate than the small "
                "one, more than the tolerance, which here pays for its slower steps.")
    return (f"A network from random weights ({answer}) was within {TOLERANCE:.0%} of the best "
            "in this run: pretraining did not pay off on this task.")
