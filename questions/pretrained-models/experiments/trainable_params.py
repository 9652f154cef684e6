"""Runs the problem's own code and prints what it prints: the number of trainable parameters.

Uses torchvision's ImageNet weights when they are on disk; otherwise `weights=None`, which
gives the same count, because counting parameters looks at shapes, not values.
"""

from __future__ import annotations

import torch
import torchvision.models as models

from bot.worker.lab.env import seed_everything
from bot.worker.lab.weights import NOT_ON_DISK, on_disk

# The problem's choices; the derived answer is the letter whose text the code printed.
CHOICES = {"A": "5130", "B": "20480", "C": "1000", "D": "0"}


def problem_code(weights) -> tuple[int, torch.nn.Module]:
    """The snippet from the problem, with `pretrained=True` spelled as `weights=`."""
    model = models.resnet18(weights=weights)
    for param in model.parameters():
        param.requires_grad = False
    model.fc = torch.nn.Linear(model.fc.in_features, 10)  # New output layer for 10 classes
    trainable_params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    print(trainable_params)
    return trainable_params, model


def per_block(model: torch.nn.Module) -> dict[str, tuple[int, int]]:
    """(frozen, trainable) parameters of each top-level block, in network order."""
    blocks: dict[str, tuple[int, int]] = {}
    for name, child in model.named_children():
        frozen = sum(p.numel() for p in child.parameters() if not p.requires_grad)
        trainable = sum(p.numel() for p in child.parameters() if p.requires_grad)
        if frozen or trainable:
            blocks[name] = (frozen, trainable)
    return blocks


def block_figure(blocks: dict[str, tuple[int, int]]):
    """Where the parameters are, and which ones the optimizer may change (log scale)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(blocks)
    fig, ax = plt.subplots(figsize=(6.4, 3.6), dpi=100)
    for column, colour, label in ((0, "#9aa5b1", "frozen"), (1, "#dd8452", "trainable")):
        rows = [(y, blocks[n][column]) for y, n in enumerate(names) if blocks[n][column]]
        ax.barh([y for y, _ in rows], [v for _, v in rows], color=colour, label=label)
    ax.set_xscale("log")
    ax.set_yticks(range(len(names)), names)
    ax.invert_yaxis()
    ax.set(title="ResNet18 after the snippet: parameters per block",
           xlabel="parameters (log scale)")
    for y, name in enumerate(names):
        if blocks[name][1]:
            ax.text(blocks[name][1] * 1.1, y, f"{blocks[name][1]:,} trainable", va="center")
    ax.legend(loc="lower right", fontsize="small")
    fig.tight_layout()
    return fig


def replaced_before_freezing() -> int:
    """The order swapped: the new head is frozen too."""
    model = models.resnet18(weights=None)
    model.fc = torch.nn.Linear(model.fc.in_features, 10)
    for param in model.parameters():
        param.requires_grad = False
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def decide(printed: list[int], choices: dict[str, str]) -> str:
    """The choice whose text is what the snippet printed, the same in every seed."""
    answer = next((k for k, v in choices.items() if str(v) == str(printed[0])), None)
    if answer is None or len(set(printed)) != 1:
        raise RuntimeError(f"printed {printed}, which matches no single choice")
    return answer


def run(ctx):
    choices = ctx.params.get("choices", CHOICES)
    weights = models.ResNet18_Weights.IMAGENET1K_V1
    use = weights if on_disk(weights) else None
    ctx.log("Loading ResNet18 with torchvision's ImageNet weights (found on disk)." if use
            else f"Using weights=None: {NOT_ON_DISK}. The count is the same: it depends on "
                 "the layers' shapes, not on the values of their weights.")
    counts = []
    for index, seed in enumerate(ctx.seeds):
        seed_everything(seed)  # the new head's random init differs by seed; its size cannot
        ctx.log(f"seed {seed}, the snippet prints:")
        count, model = problem_code(use)
        counts.append(count)
        ctx.progress(index + 1, len(ctx.seeds), f"seed {seed}")
    ctx.figure("resnet18-trainable-parameters", block_figure(per_block(model)))
    count = counts[0]
    in_features, total = model.fc.in_features, sum(p.numel() for p in model.parameters())
    ctx.log(f"\nWhy: model.fc.in_features = {in_features}; the new Linear({in_features}, 10) "
            f"has {in_features} x 10 weights + 10 biases = {in_features * 10 + 10}. Every "
            f"other parameter (of {total:,} in ResNet18) was frozen before the head was "
            "replaced, and a new layer's parameters default to requires_grad=True.")
    ctx.log(f"Replacing fc *before* the freezing loop would print {replaced_before_freezing()}.")
    answer = decide(counts, choices)
    return {"answer": answer, "metrics": {
        "trainable_params": count, "fc_in_features": in_features, "total_params": total,
        "imagenet_weights": "on disk" if use else "not on disk (weights=None)",
        "same_across_seeds": int(len(set(counts)) == 1), "seeds": len(ctx.seeds)}}
