"""Which blocks to unfreeze: the last two (near the head) or the first two (near the input).

The pretrained backbone has four conv blocks. Each arm trains two of them plus a new head on
200 target images and keeps the other two frozen in eval mode; a third arm trains the head
alone. Same head init, batches, steps and rates in every arm: they differ only in which
blocks train (and so in how many parameters train, which the printout shows).
"""

from __future__ import annotations

import torch
from torch import nn
from torchvision import models

from bot.worker.lab import plots
from bot.worker.lab.data import Split, target_splits
from bot.worker.lab.env import seed_everything
from bot.worker.lab.finetune import mean, pct, per_seed, pretrained
from bot.worker.lab.train import accuracy, train_steps

SIZES = {"test": {"val": 300}, "cpu": {"val": 500}, "full": {"val": 2000}}
TRAIN, STEPS, BATCH = 200, 40, 16
BACKBONE_LR, HEAD_LR = 1e-3, 1e-2
TOL = 0.01  # differences under a point count as a tie
ARMS = {"last two blocks + head": (2, 3), "first two blocks + head": (0, 1), "head only": ()}


def run(ctx):
    cfg = {**SIZES[ctx.size], **ctx.params}
    pre = pretrained(ctx)
    ctx.log(pre.describe())
    acc: dict[str, list[float]] = {arm: [] for arm in ARMS}
    trainable: dict[str, int] = {}
    total, done = len(ARMS) * len(ctx.seeds), 0
    for seed in ctx.seeds:
        train, val = target_splits(TRAIN, cfg["val"], seed=seed)
        for arm, blocks in ARMS.items():
            seed_everything(seed)
            model = pre.model(10, ctx.device)
            acc[arm].append(train_arm(ctx, model, blocks, train, val, seed))
            trainable[arm] = sum(p.numel() for p in model.parameters() if p.requires_grad)
            done += 1
            ctx.progress(done, total, f"seed {seed}: {arm}")
    return report(ctx, acc, trainable)


def conv_blocks(model) -> list[nn.Sequential]:
    """The backbone's conv blocks (conv, batch norm, ReLU, pooling), input side first."""
    layers = list(model.backbone)
    starts = [i for i, layer in enumerate(layers) if isinstance(layer, nn.Conv2d)]
    ends = starts[1:] + [len(layers)]
    return [nn.Sequential(*layers[s:e]) for s, e in zip(starts, ends, strict=True)]


def train_arm(ctx, model, blocks: tuple[int, ...], train: Split, val: Split, seed: int) -> float:
    parts = conv_blocks(model)
    frozen = [part for i, part in enumerate(parts) if i not in blocks]
    for part in frozen:
        for param in part.parameters():
            param.requires_grad = False
    if not blocks:  # head only: the frozen backbone's outputs never change, compute them once
        model.eval()
        with torch.no_grad():
            train, val = (Split(model.backbone(s.images.to(ctx.device)), s.labels)
                          for s in (train, val))
        model, frozen = model.fc, []
    groups = [{"params": [p for i in blocks for p in parts[i].parameters()], "lr": BACKBONE_LR}]
    groups = [g for g in groups if g["params"]]
    groups.append({"params": list((model.fc if blocks else model).parameters()), "lr": HEAD_LR})
    train_steps(model, torch.optim.AdamW(groups), train, steps=STEPS, batch=BATCH,
                device=ctx.device, seed=seed, keep_eval_mode=tuple(frozen))
    return accuracy(model, val, ctx.device)


def decide(last_two: float, first_two: float, head_only: float) -> str:
    """Maps mean validation accuracies to a choice."""
    if max(last_two, first_two) < head_only - TOL:
        return "C"  # unfreezing either pair did worse than training the head alone
    if abs(last_two - first_two) < TOL:
        return "B"
    return "D" if last_two > first_two else "A"


def resnet18_split() -> tuple[int, int]:
    """Parameters in ResNet18's first two and last two stages (shapes only: meta device)."""
    with torch.device("meta"):
        net = models.resnet18(weights=None)
    count = lambda *stages: sum(p.numel() for s in stages for p in s.parameters())  # noqa: E731
    return count(net.layer1, net.layer2), count(net.layer3, net.layer4)


def report(ctx, acc: dict[str, list[float]], trainable: dict[str, int]) -> dict:
    ctx.log(f"\n{TRAIN} target images, {STEPS} steps of {BATCH}, blocks at lr {BACKBONE_LR:g}, "
            f"head at {HEAD_LR:g}; frozen blocks in eval mode. Validation accuracy, mean "
            f"[per seed {ctx.seeds}]:")
    for arm, values in acc.items():
        ctx.log(f"  {arm}: {pct(mean(values))} [{per_seed(values)}], "
                f"{trainable[arm]:,} trainable parameters")
    last, first, head = (acc[a] for a in ARMS)
    wins = sum(a > b for a, b in zip(last, first, strict=True))
    answer = decide(mean(last), mean(first), mean(head))
    early, late = resnet18_split()
    ctx.log(f"Last two ahead of first two in {wins} of {len(last)} seeds; a difference "
            f"under {TOL * 100:.0f} point counts as none -> answer {answer}.")
    ctx.log(f"The last blocks hold more parameters, as in any CNN whose channels widen with "
            f"depth: ResNet18's layer3+layer4 have {late / 1e6:.1f}M, layer1+layer2 "
            f"{early / 1e6:.1f}M.")
    ctx.log("\nWhy: " + EXPLAIN[answer].format(
        gain=(mean(last) - mean(head)) * 100, early_gain=(mean(first) - mean(head)) * 100))
    ctx.figure("which_blocks", plots.bars(
        "Unfreezing two of four blocks (mean over seeds)",
        {arm.replace(" + ", "\n+ "): mean(values) for arm, values in acc.items()},
        ylabel="validation accuracy"))
    return {"answer": answer, "metrics": {
        "last_two_acc": round(mean(last), 4), "first_two_acc": round(mean(first), 4),
        "head_only_acc": round(mean(head), 4),
        "last_two_trainable": trainable["last two blocks + head"],
        "first_two_trainable": trainable["first two blocks + head"], "last_ahead_in_seeds": wins,
        "seeds": len(ctx.seeds)}}


EXPLAIN = {
    "D": ("training the last two blocks added {gain:+.1f} points over the head alone, the "
          "first two {early_gain:+.1f}. The first blocks compute strokes and edges that "
          "serve the new classes as they are; the last blocks combine them into parts of the "
          "source classes, and that is what the new classes need changed (general "
          "knowledge, Yosinski et al. 2014). Unfreeze from the top down (answer D)."),
    "A": "the first two blocks helped more in this run.",
    "B": "it made no clear difference which pair trained in this run.",
    "C": "training the head alone was best in this run.",
}
