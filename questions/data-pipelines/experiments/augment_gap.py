"""Augmentation on a small training set: training vs validation accuracy, with and without.

50 generated 24x24 shape images (5 per class; the shapes sit at random positions and sizes)
train a small CNN twice per seed: once with no training transform, once with
v2.RandomCrop(24, padding=3) + v2.RandomHorizontalFlip() applied per sample in the Dataset.
Everything else is the same: initial weights, batch order, learning rate, epochs. Training
accuracy is measured on the un-augmented training images, validation on 300+ new images.
"""

from __future__ import annotations

import statistics

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset
from torchvision.transforms import v2

from bot.worker.lab.data import target_splits
from bot.worker.lab.env import seed_everything

SIZES = {
    "test": {"train": 50, "val": 300, "epochs": 12, "batch": 10},
    "cpu": {"train": 50, "val": 1000, "epochs": 20, "batch": 10},
    "full": {"train": 50, "val": 2000, "epochs": 40, "batch": 10},
}
LR = 3e-3
ARMS = ("plain", "augmented")
GAP_DROP, VAL_GAIN = 0.10, 0.02  # what counts as "the gap narrowed" and "validation rose"


def augmentation() -> v2.Compose:
    return v2.Compose([v2.RandomCrop(24, padding=3), v2.RandomHorizontalFlip()])


class Images(Dataset):
    def __init__(self, images: torch.Tensor, labels: torch.Tensor, transform=None):
        self.images, self.labels, self.transform = images, labels, transform

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        image = self.images[i]
        if self.transform is not None:
            image = self.transform(image)
        return image, self.labels[i]


def lean_cnn() -> nn.Module:
    """Three conv + batch-norm layers (8, 16, 32 channels), global max pooling, a linear head."""
    return nn.Sequential(
        nn.Conv2d(1, 8, 5, padding=2, bias=False), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU(),
        nn.AdaptiveMaxPool2d(1), nn.Flatten(), nn.Linear(32, 10))


@torch.no_grad()
def accuracy(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, device: str) -> float:
    model.eval()
    correct = (model(images.to(device)).argmax(1).cpu() == labels).sum()
    model.train()
    return int(correct) / len(labels)


def train(arm: str, seed: int, cfg: dict, device: str) -> tuple[float, float]:
    """Returns (training accuracy, validation accuracy) after the last epoch."""
    train_split, val_split = target_splits(cfg["train"], cfg["val"], seed=seed)
    seed_everything(seed)  # same initial weights for both arms
    model = lean_cnn().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    transform = augmentation() if arm == "augmented" else None
    loader = DataLoader(Images(train_split.images, train_split.labels, transform),
                        batch_size=cfg["batch"], shuffle=True,
                        generator=torch.Generator().manual_seed(seed))  # same batch order
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(cfg["epochs"]):
        for images, labels in loader:
            loss = loss_fn(model(images.to(device)), labels.to(device))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return (accuracy(model, train_split.images, train_split.labels, device),
            accuracy(model, val_split.images, val_split.labels, device))


def derive(plain_train: float, plain_val: float, aug_train: float, aug_val: float) -> str:
    """Reads the diagnosis off the four mean accuracies, as the question asks a learner to."""
    gap_plain, gap_aug = plain_train - plain_val, aug_train - aug_val
    if gap_aug <= gap_plain - GAP_DROP and aug_val >= plain_val + VAL_GAIN:
        return "B"  # less overfitting, and the number that matters went up
    if aug_val < plain_val - VAL_GAIN and aug_train < plain_train - VAL_GAIN:
        return "A"  # augmentation lowered both: the model could no longer fit in this budget
    if aug_val > aug_train + VAL_GAIN:
        return "D"  # validation above training: the suspicious pattern
    raise RuntimeError("no clear effect of augmentation in this run")


def pct(values) -> str:
    return ", ".join(f"{v:.0%}" for v in values)


def run(ctx):
    cfg = {**SIZES[ctx.size], **ctx.params}
    runs: dict[str, list[tuple[float, float]]] = {a: [] for a in ARMS}
    total, done = len(ARMS) * len(ctx.seeds), 0
    for seed in ctx.seeds:
        for arm in ARMS:
            runs[arm].append(train(arm, seed, cfg, ctx.device))
            done += 1
            ctx.progress(done, total, f"seed {seed}: {arm}")
    final = {arm: ([r[0] for r in runs[arm]], [r[1] for r in runs[arm]]) for arm in ARMS}
    gaps = {arm: [t - v for t, v in zip(*final[arm], strict=True)] for arm in ARMS}
    mean = {arm: (statistics.fmean(final[arm][0]), statistics.fmean(final[arm][1]))
            for arm in ARMS}
    steps = cfg["epochs"] * -(-cfg["train"] // cfg["batch"])
    params = sum(p.numel() for p in lean_cnn().parameters())
    ctx.log(f"{cfg['train']} training images, {cfg['val']} validation images; same network "
            f"({params:,} parameters), initial weights, batch order, lr {LR} and {cfg['epochs']} "
            f"epochs ({steps} steps) in both arms; seeds {ctx.seeds}.")
    for arm in ARMS:
        ctx.log(f"  {arm:9s}: train {mean[arm][0]:.0%} [{pct(final[arm][0])}], val "
                f"{mean[arm][1]:.0%} [{pct(final[arm][1])}], gap "
                f"{statistics.fmean(gaps[arm]):.0%} [{pct(gaps[arm])}]")
    narrowed = sum(a < p for a, p in zip(gaps["augmented"], gaps["plain"], strict=True))
    rose = sum(a > p for a, p in zip(final["augmented"][1], final["plain"][1], strict=True))
    ctx.log(f"The gap narrowed in {narrowed} of {len(ctx.seeds)} seeds; validation accuracy "
            f"rose in {rose} of {len(ctx.seeds)}.")
    draw(ctx, final)
    answer = derive(mean["plain"][0], mean["plain"][1], mean["augmented"][0],
                    mean["augmented"][1])
    ctx.log("\n" + explain(answer, mean))
    return {"answer": answer, "metrics": {
        "plain_train": round(mean["plain"][0], 4), "plain_val": round(mean["plain"][1], 4),
        "aug_train": round(mean["augmented"][0], 4), "aug_val": round(mean["augmented"][1], 4),
        "gap_plain": round(statistics.fmean(gaps["plain"]), 4),
        "gap_aug": round(statistics.fmean(gaps["augmented"]), 4),
        "seeds_gap_narrowed": narrowed, "seeds_val_rose": rose, "seeds": len(ctx.seeds)}}


def explain(answer: str, mean: dict[str, tuple[float, float]]) -> str:
    (pt, pv), (at, av) = mean["plain"], mean["augmented"]
    if answer == "B":
        return (f"Why: without augmentation the network fits its 50 images ({pt:.0%}) but "
                f"reaches only {pv:.0%} on new ones, a {100 * (pt - pv):.0f}-point gap: it "
                "memorised its "
                "training images. Random crops and flips show it a different "
                "version of each image every epoch, so memorising stops paying off: training "
                f"accuracy fell to {at:.0%}, validation rose to {av:.0%}, and the gap shrank "
                f"to {100 * (at - av):.0f} points. Lower training accuracy here is not "
                "underfitting; validation accuracy, the number that matters, went up.")
    if answer == "A":
        return (f"Augmentation lowered both training ({pt:.0%} -> {at:.0%}) and validation "
                f"({pv:.0%} -> {av:.0%}) accuracy in this run: with this budget the model "
                "could not fit the harder, varied images.")
    return (f"Validation accuracy ({av:.0%}) came out above training accuracy ({at:.0%}) with "
            "augmentation in this run.")


def draw(ctx, final: dict[str, tuple[list[float], list[float]]]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 3.6), dpi=100)
    for offset, (which, colour) in enumerate((("training", "#9aa5b1"),
                                              ("validation", "#4c72b0"))):
        for x, arm in enumerate(ARMS):
            values = final[arm][offset]
            ax.bar(x + 0.2 * (2 * offset - 1), statistics.fmean(values), width=0.38,
                   color=colour, label=which if x == 0 else None)
            ax.scatter([x + 0.2 * (2 * offset - 1)] * len(values), values, color="black",
                       s=10, zorder=3)
    ax.set_xticks(range(len(ARMS)), [f"{a}\n(gap = grey minus blue)" for a in ARMS])
    ax.set(title="Accuracy after training on 50 images (dots: seeds)", ylabel="accuracy",
           ylim=(0, 1.05))
    ax.legend(fontsize="small", loc="upper right")
    fig.tight_layout()
    ctx.figure("train_vs_val", fig)
