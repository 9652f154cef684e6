"""Validation accuracy of a batch-norm CNN, evaluated one image at a time with and without
`model.eval()`.

A small CNN with BatchNorm2d after each conv is trained on scikit-learn's bundled 8x8 digits
(no download). Each arm starts from a copy of the same trained model and sees the same
validation images: eval mode (the reference), training mode one image at a time (the
mistake), and training mode with all validation images in one batch (to show that the batch
statistics, not the mode itself, are what changes).
"""

from __future__ import annotations

import copy
import statistics

import torch
from sklearn.datasets import load_digits
from torch import nn

from bot.worker.lab import plots
from bot.worker.lab.data import Split
from bot.worker.lab.env import one_thread, seed_everything
from bot.worker.lab.train import accuracy, train_steps

SIZES = {"test": {"steps": 80, "singles": 150}, "cpu": {"steps": 200, "singles": 597},
         "full": {"steps": 400, "singles": 597}}
BATCH, N_TRAIN, LR = 64, 1200, 0.05
MARGIN = 0.1


def digits(seed: int) -> tuple[Split, Split]:
    data = load_digits()
    images = torch.tensor(data.images, dtype=torch.float32).unsqueeze(1)
    labels = torch.tensor(data.target, dtype=torch.int64)
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))
    train, val = order[:N_TRAIN], order[N_TRAIN:]
    mean, std = images[train].mean(), images[train].std()
    images = (images - mean) / std
    return Split(images[train], labels[train]), Split(images[val], labels[val])


def make_net(width: int = 8) -> nn.Sequential:
    """Three conv + BatchNorm2d blocks (8 -> 4 -> 2 pixels), average pooling, a linear head."""
    layers: list[nn.Module] = []
    cin = 1
    for index, cout in enumerate((width, 2 * width, 4 * width)):
        layers += [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout),
                   nn.ReLU()]
        if index < 2:
            layers.append(nn.MaxPool2d(2))
        cin = cout
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, 10))


@torch.no_grad()
def train_mode_accuracy(model: nn.Module, split: Split, device: str, batch: int
                        ) -> float | None:
    """The mistake: forward passes in training mode (batch statistics, running stats updated).

    None when batch norm refuses the batch (ValueError: one value per channel)."""
    model.train()
    correct = 0
    for start in range(0, len(split), batch):
        images = split.images[start:start + batch].to(device)
        try:
            logits = model(images)
        except ValueError:
            return None
        correct += int((logits.argmax(1).cpu() == split.labels[start:start + batch]).sum())
    return correct / len(split)


def single_value_error() -> bool:
    """Does BatchNorm2d refuse a 1-image batch whose feature map is 1x1 in training mode?"""
    try:
        nn.BatchNorm2d(4).train()(torch.randn(1, 4, 1, 1))
    except ValueError:
        return True
    return False


@torch.no_grad()
def last_map_side(device: str) -> int:
    """Height of the feature map the last BatchNorm2d normalises, for an 8x8 digit."""
    net = make_net().to(device).eval()
    return int(net[:-3](torch.zeros(1, 1, 8, 8, device=device)).shape[-1])


def decide(eval_acc: float, single_acc: float, raised: bool, margin: float = MARGIN) -> str:
    if raised:
        return "B"  # batch norm refused the one-image batch
    if single_acc < eval_acc - margin:
        return "D"  # much lower
    if single_acc > eval_acc + margin:
        return "C"  # higher
    return "A"  # about the same


def run(ctx):
    cfg = {**SIZES[ctx.size], **ctx.params}
    rows = []
    with one_thread(ctx.device):
        for index, seed in enumerate(ctx.seeds):
            train, val = digits(seed)
            singles = Split(val.images[:cfg["singles"]], val.labels[:cfg["singles"]])
            seed_everything(seed)
            model = make_net().to(ctx.device)
            optimizer = torch.optim.SGD(model.parameters(), lr=LR, momentum=0.9)
            train_steps(model, optimizer, train, steps=cfg["steps"], batch=BATCH,
                        device=ctx.device, seed=seed)
            mistaken = copy.deepcopy(model)
            row = {
                "eval": accuracy(model, singles, ctx.device, batch=1),
                "single": train_mode_accuracy(mistaken, singles, ctx.device, batch=1),
                "whole": train_mode_accuracy(copy.deepcopy(model), singles, ctx.device,
                                             batch=len(singles)),
            }
            row["eval_after"] = accuracy(mistaken, singles, ctx.device)
            if row["single"] is None or row["whole"] is None:
                ctx.log(f"seed {seed}: BatchNorm2d raised ValueError on a training-mode batch "
                        "(one value per channel).")
                return {"answer": decide(row["eval"], 0.0, True), "metrics": {
                    "raised": 1, "seeds": len(ctx.seeds)}}
            rows.append(row)
            ctx.progress(index + 1, len(ctx.seeds), f"seed {seed}")
    med = {k: statistics.median(r[k] for r in rows) for k in rows[0]}
    raised = single_value_error()
    held = sum(r["single"] < r["eval"] - MARGIN for r in rows)

    def per_seed(key: str) -> str:
        return ", ".join(f"{r[key]:.0%}" for r in rows)

    n = cfg["singles"]
    ctx.log(f"CNN with BatchNorm2d, trained {cfg['steps']} steps on 8x8 digits; accuracy on "
            f"{n} validation images, median [per seed {ctx.seeds}]:")
    ctx.log(f"  model.eval(), one image at a time:         {med['eval']:.0%} [{per_seed('eval')}]")
    ctx.log(f"  training mode, one image at a time:        {med['single']:.0%} "
            f"[{per_seed('single')}]")
    ctx.log(f"  training mode, all {n} images in one batch: {med['whole']:.0%} "
            f"[{per_seed('whole')}]")
    ctx.log(f"  eval mode again after the one-at-a-time pass: {med['eval_after']:.0%} "
            f"[{per_seed('eval_after')}]")
    side = last_map_side(ctx.device)
    ctx.log(f"One image at a time in training mode lost more than {MARGIN * 100:.0f} points in "
            f"{held} of {len(ctx.seeds)} seeds. The last conv's map is {side}x{side}, so each "
            f"channel still has {side * side} values per image and no error was raised; a 1x1 "
            f"map with one image {'does raise ValueError' if raised else 'raises nothing either'}.")
    ctx.figure("accuracy-by-mode", plots.bars(
        "Same trained CNN, same validation images (median over seeds)",
        {"eval()": med["eval"], "train mode,\nbatch 1": med["single"],
         f"train mode,\nbatch {n}": med["whole"],
         "eval() after\nbatch-1 passes": med["eval_after"]},
        ylabel="accuracy"))
    answer = decide(med["eval"], med["single"], False)  # no pass raised (checked above)
    close = abs(med["whole"] - med["eval"]) <= 0.05
    whole = (f"With all {n} images in one batch, training mode gave {med['whole']:.0%}"
             + (": statistics over many images resemble the running ones." if close else "."))
    ctx.log(f"\nWhy: in training mode BatchNorm normalises with the statistics of the batch it "
            f"is given. With one image, each channel is normalised over that image's own "
            f"pixels, so whatever made its activations high or low is subtracted away: "
            f"{med['single']:.0%} against {med['eval']:.0%}. {whole} The one-image passes also "
            f"replaced the running statistics ({n} passes at momentum 0.1): eval mode afterwards "
            f"gave {med['eval_after']:.0%}, against {med['eval']:.0%} before.")
    return {"answer": answer, "metrics": {
        "eval_acc": round(med["eval"], 4), "train_mode_single_acc": round(med["single"], 4),
        "train_mode_batch_acc": round(med["whole"], 4),
        "eval_after_acc": round(med["eval_after"], 4), "one_by_one_1x1_raises": int(raised),
        "held_seeds": held, "seeds": len(ctx.seeds)}}
