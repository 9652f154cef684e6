"""Augmentation as a regulariser: which transform helps an MLP that overfits shape images?

Images come from bot.worker.lab.data's generated "target" task: 10 shape classes drawn at a
random position, size and stroke width on a noisy background, here at 12x12 pixels. Per seed,
five arms share the same 150 training images, initial weights and steps; they differ only in
the random transform applied to every training image at every step. All are scored on the
same held-out images, never transformed.
"""

from __future__ import annotations

import statistics

import torch
from torch import nn
from torch.nn import functional as F

from bot.worker.lab import plots
from bot.worker.lab.data import make_split
from bot.worker.lab.env import one_thread, seed_everything

SIZES = {
    "test": {"train": 150, "val": 500, "steps": 100},
    "cpu": {"train": 150, "val": 800, "steps": 200},
    "full": {"train": 200, "val": 2000, "steps": 400},
}
SIZE, LR, HIDDEN, MAX_SHIFT, NOISE_STD = 12, 3e-3, 64, 2, 0.5


def rot90(images: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Rotates each image by 0, 90, 180 or 270 degrees, chosen at random."""
    quarter = torch.randint(0, 4, (len(images),), generator=gen).to(images.device)
    out = images.clone()
    for k in (1, 2, 3):
        out[quarter == k] = torch.rot90(images[quarter == k], k, (2, 3))
    return out


def shift(images: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Moves each image by up to MAX_SHIFT pixels in x and y (edges repeated to fill)."""
    n, m = len(images), MAX_SHIFT
    padded = F.pad(images, (m, m, m, m), mode="replicate")
    dy, dx = (torch.randint(0, 2 * m + 1, (n, 1), generator=gen).to(images.device)
              for _ in range(2))
    grid = torch.arange(SIZE, device=images.device).unsqueeze(0)
    rows, cols = (grid + dy).unsqueeze(2), (grid + dx).unsqueeze(1)
    index = torch.arange(n, device=images.device).view(n, 1, 1)
    return padded[index, 0, rows, cols].unsqueeze(1)


def hflip(images: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Mirrors each image left-right with probability 0.5."""
    mask = (torch.rand(len(images), generator=gen) < 0.5).to(images.device)
    return torch.where(mask.view(-1, 1, 1, 1), images.flip(3), images)


def pixel_noise(images: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Adds Gaussian noise of standard deviation NOISE_STD to every pixel."""
    return images + NOISE_STD * torch.randn(images.shape, generator=gen).to(images.device)


ARMS = {"none": None, "A": rot90, "B": shift, "C": hflip, "D": pixel_noise}
NAMES = {"none": "no augmentation", "A": "random 90-degree rotation",
         "B": f"random shift up to {MAX_SHIFT} px", "C": "random horizontal flip",
         "D": f"Gaussian pixel noise, std {NOISE_STD}"}


@torch.no_grad()
def accuracy(model: nn.Module, split) -> float:
    model.eval()
    return (model(split.images).argmax(1) == split.labels).float().mean().item()


def train_arm(seed: int, augment, cfg: dict, train, val, device: str) -> tuple[float, float]:
    seed_everything(seed)  # the same initial weights in every arm
    model = nn.Sequential(nn.Flatten(), nn.Linear(SIZE * SIZE, HIDDEN), nn.ReLU(),
                          nn.Linear(HIDDEN, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, 10)).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(cfg["steps"]):
        model.train()
        images = augment(train.images, gen) if augment else train.images
        loss = F.cross_entropy(model(images), train.labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return accuracy(model, train), accuracy(model, val)


def decide(val_acc: dict[str, float], margin: float = 0.03) -> str:
    """The candidate (A-D) with the best held-out accuracy, if it leads by `margin`."""
    ranked = sorted("ABCD", key=val_acc.__getitem__, reverse=True)
    if val_acc[ranked[0]] - val_acc[ranked[1]] < margin:
        raise RuntimeError(f"no candidate leads by {margin:.0%}: {val_acc}")
    return ranked[0]


def on_device(split, device: str):
    return type(split)(split.images.to(device), split.labels.to(device))


def run(ctx):
    cfg = {**SIZES[ctx.size], **ctx.params}
    results: dict[str, list[tuple[float, float]]] = {arm: [] for arm in ARMS}
    with one_thread(ctx.device):
        total, done = len(ctx.seeds) * len(ARMS), 0
        for seed in ctx.seeds:
            train = on_device(make_split("target", cfg["train"], seed=100 + seed, size=SIZE),
                              ctx.device)
            val = on_device(make_split("target", cfg["val"], seed=200 + seed, size=SIZE),
                            ctx.device)
            for arm, augment in ARMS.items():
                results[arm].append(train_arm(seed, augment, cfg, train, val, ctx.device))
                done += 1
                ctx.progress(done, total, f"seed {seed}: {NAMES[arm]}")
    ctx.log(f"MLP {SIZE * SIZE}-{HIDDEN}-{HIDDEN}-10, Adam lr {LR}, {cfg['steps']} full-batch "
            f"steps on {cfg['train']} generated {SIZE}x{SIZE} shape images (10 classes); each "
            "arm transforms every training image afresh at every step. Held-out: "
            f"{cfg['val']} images, untransformed. Seeds {ctx.seeds}.")
    ctx.log("     augmentation                   held-out acc per seed  mean   train acc")
    val = {arm: statistics.fmean(v for _, v in runs) for arm, runs in results.items()}
    train = {arm: statistics.fmean(t for t, _ in runs) for arm, runs in results.items()}
    for arm, runs in results.items():
        cells = ", ".join(f"{v:.0%}" for _, v in runs)
        ctx.log(f"  {arm:<4} {NAMES[arm]:<30} {cells:<21}  {val[arm]:.1%}  {train[arm]:.0%}")
    answer = decide(val)
    wins = sum(all(results[answer][i][1] > results[o][i][1] for o in ARMS if o != answer)
               for i in range(len(ctx.seeds)))
    ctx.log(f"{NAMES[answer]} was best in {wins} of {len(ctx.seeds)} seeds.")
    ctx.figure("augmentation-accuracy", plots.bars(
        "Held-out accuracy by augmentation (mean over seeds)",
        {NAMES[a].split(",")[0].replace("random ", ""): val[a] for a in ARMS},
        ylabel="accuracy"))
    ctx.log("\n" + (
        "Why: the shapes sit at random positions, and with only "
        f"{cfg['train']} examples the MLP memorises pixels: training accuracy "
        f"{train['none']:.0%}, held-out {val['none']:.1%}. An MLP's first layer has a "
        "separate weight for every pixel, so a shape it learned in one place means nothing "
        "to it elsewhere (general knowledge). Random shifts show it each training shape in "
        f"new places, the very variation it must generalise over: held-out {val['B']:.1%}, "
        f"while training accuracy drops to {train['B']:.0%}, a narrower gap. Pixel noise "
        f"({(val['D'] - val['none']) * 100:+.1f} points against no augmentation) and horizontal "
        f"flips ({(val['C'] - val['none']) * 100:+.1f}) teach it nothing about position. A "
        "quarter turn "
        "changes the label of some classes (two dots side by side become the class 'two "
        "dots one above the other', a horizontal ellipse the vertical one): "
        f"{(val['A'] - val['none']) * 100:+.1f} points."
        if answer == "B" else f"This run points to {answer}; see the numbers above."))
    return {"answer": answer, "metrics": {
        **{f"val_acc_{arm}": round(v, 4) for arm, v in val.items()},
        **{f"train_acc_{arm}": round(v, 4) for arm, v in train.items()},
        "seeds_best": wins, "seeds": len(ctx.seeds)}}
