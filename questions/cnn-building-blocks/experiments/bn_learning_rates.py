"""Learning rates with and without batch norm: the same small CNN trained on 8x8 digits.

The two arms differ only in BatchNorm2d after each conv (the plain arm's convs keep their
bias, which plays the part of BN's shift). Same data split, initial-weight seed, optimiser
(SGD, momentum 0.9), batch and number of steps at each learning rate. Data: scikit-learn's
bundled digits (1,797 8x8 images, no download).
"""

from __future__ import annotations

import statistics

import torch
from sklearn.datasets import load_digits
from torch import nn

from bot.worker.lab.data import Split
from bot.worker.lab.env import one_thread, seed_everything
from bot.worker.lab.train import accuracy, train_steps

LRS = (0.2, 1.0)
STEPS = {"test": 60, "cpu": 150, "full": 300}
BATCH, N_TRAIN = 32, 1200
TRAINS = 0.3  # validation accuracy that counts as "trains" (chance is 0.1)


def digits(seed: int) -> tuple[Split, Split]:
    data = load_digits()
    images = torch.tensor(data.images, dtype=torch.float32).unsqueeze(1)
    labels = torch.tensor(data.target, dtype=torch.int64)
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))
    train, val = order[:N_TRAIN], order[N_TRAIN:]
    mean, std = images[train].mean(), images[train].std()
    images = (images - mean) / std
    return Split(images[train], labels[train]), Split(images[val], labels[val])


def make_net(batch_norm: bool, width: int = 8) -> nn.Sequential:
    """Three 3x3 conv blocks (8 -> 4 -> 2 pixels), global average pooling, a linear head."""
    layers: list[nn.Module] = []
    cin = 1
    for index, cout in enumerate((width, 2 * width, 4 * width)):
        layers.append(nn.Conv2d(cin, cout, 3, padding=1, bias=not batch_norm))
        if batch_norm:
            layers.append(nn.BatchNorm2d(cout))
        layers.append(nn.ReLU())
        if index < 2:
            layers.append(nn.MaxPool2d(2))
        cin = cout
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, 10))


@torch.no_grad()
def dead_fraction(net: nn.Sequential, val: Split, device: str) -> float:
    """Share of the last ReLU's outputs that are exactly 0 on the validation images."""
    net.eval()
    h, last = val.images.to(device), 0.0
    for layer in net:
        h = layer(h)
        if isinstance(layer, nn.ReLU):
            last = float((h == 0).float().mean())
    return last


def decide(plain: dict[float, float], bn: dict[float, float], threshold: float = TRAINS) -> str:
    """Reads the outcome at the largest rate off the median validation accuracies."""
    top = max(bn)
    bn_trains, plain_trains = bn[top] >= threshold, plain[top] >= threshold
    if bn_trains and not plain_trains:
        return "B"
    if plain_trains and not bn_trains:
        return "C"
    if not bn_trains and not plain_trains:
        return "D"
    return "A"


OTHER = {
    "A": "both networks trained at the largest rate; batch norm did not change which rates work.",
    "C": "the plain network trained at the largest rate and the batch-norm one did not.",
    "D": "neither network trained at the largest rate.",
}


def figure(results: dict[str, dict[float, list[float]]]):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 3.8), dpi=100)
    for (arm, runs), colour in zip(results.items(), ("#9aa5b1", "#dd8452"), strict=True):
        for lr, accs in runs.items():
            ax.scatter([lr] * len(accs), accs, color=colour, alpha=0.6, s=18)
        ax.plot(list(runs), [statistics.median(a) for a in runs.values()], color=colour,
                marker="o", label=f"{arm} (median)")
    ax.axhline(0.1, color="grey", linestyle="--", linewidth=1, label="chance")
    ax.set_xscale("log")
    ax.set_xticks(list(LRS), [str(lr) for lr in LRS])
    ax.minorticks_off()
    ax.set(xlabel="learning rate (SGD, momentum 0.9)",
           ylabel="validation accuracy", ylim=(0, 1.02),
           title="Same CNN and steps, with and without BatchNorm2d")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", fontsize="small")
    fig.tight_layout()
    return fig


def run(ctx):
    steps = int(ctx.params.get("steps", STEPS[ctx.size]))
    results: dict[str, dict[float, list[float]]] = {
        "without BN": {lr: [] for lr in LRS}, "with BN": {lr: [] for lr in LRS}}
    dead: dict[str, list[float]] = {"without BN": [], "with BN": []}
    total, done = len(ctx.seeds) * len(LRS) * 2, 0
    with one_thread(ctx.device):
        for seed in ctx.seeds:
            train, val = digits(seed)
            for lr in LRS:
                for arm, batch_norm in (("without BN", False), ("with BN", True)):
                    seed_everything(seed)
                    net = make_net(batch_norm).to(ctx.device)
                    optimizer = torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9)
                    train_steps(net, optimizer, train, steps=steps, batch=BATCH,
                                device=ctx.device, seed=seed)
                    results[arm][lr].append(accuracy(net, val, ctx.device))
                    if lr == max(LRS):
                        dead[arm].append(dead_fraction(net, val, ctx.device))
                    done += 1
                    ctx.progress(done, total, f"seed {seed}: lr {lr}, {arm}")
    medians = {arm: {lr: statistics.median(a) for lr, a in runs.items()}
               for arm, runs in results.items()}
    ctx.figure("bn-learning-rates", figure(results))
    ctx.log(f"Validation accuracy after {steps} SGD steps (batch {BATCH}), median "
            f"[per seed {ctx.seeds}]; chance is 10%:")
    for lr in LRS:
        row = "  ".join(f"{arm} {medians[arm][lr]:.0%} "
                        f"[{', '.join(f'{a:.0%}' for a in results[arm][lr])}]"
                        for arm in results)
        ctx.log(f"  lr {lr:<4}: {row}")
    top = max(LRS)
    held = sum(b >= TRAINS > p for b, p in
               zip(results["with BN"][top], results["without BN"][top], strict=True))
    ctx.log(f"At lr {top}, BN trained (>= {TRAINS:.0%}) while the plain net did not in "
            f"{held} of {len(ctx.seeds)} seeds.")
    dead_plain, dead_bn = statistics.median(dead["without BN"]), statistics.median(dead["with BN"])
    ctx.log(f"Last ReLU's outputs that are exactly 0 on validation images at lr {top} "
            f"(median): without BN {dead_plain:.0%}, with BN {dead_bn:.0%}.")
    answer = decide(medians["without BN"], medians["with BN"])
    if answer == "B":
        low = min(LRS)
        ctx.log(f"\nWhy: without BN, a large step can push a layer's pre-activations so far "
                f"negative that its ReLUs output 0 almost everywhere: at lr {top} the plain "
                f"net's last ReLU gave 0 for {dead_plain:.0%} of values and accuracy stayed at "
                f"{medians['without BN'][top]:.0%} (at lr {low}: "
                f"{medians['without BN'][low]:.0%}). BatchNorm "
                f"re-centres and re-scales every channel on every batch, so the next ReLU still "
                f"gets inputs on both sides of 0 ({dead_bn:.0%} zeros) and the net reached "
                f"{medians['with BN'][top]:.0%} at lr {top}. Ioffe & Szegedy (2015, sec. 3.3) "
                "report the same: BN tolerates higher learning rates.")
    else:
        ctx.log(f"\nIn this run: {OTHER[answer]}")
    return {"answer": answer, "metrics": {
        **{f"plain_lr{lr}": round(medians["without BN"][lr], 4) for lr in LRS},
        **{f"bn_lr{lr}": round(medians["with BN"][lr], 4) for lr in LRS},
        "dead_relu_plain": round(dead_plain, 4), "dead_relu_bn": round(dead_bn, 4),
        "steps": steps, "held_seeds": held, "seeds": len(ctx.seeds)}}
