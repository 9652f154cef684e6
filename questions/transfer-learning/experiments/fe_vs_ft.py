"""Feature extraction vs fine-tuning, with 1 and with 100 labelled images per class.

Both arms start from the same pretrained backbone and the same new head (same seed), see the
same batches for the same number of steps, and train the head at the same rate. They differ
only in whether the backbone trains: feature extraction keeps it frozen (in eval mode, so its
outputs are fixed and computed once), fine-tuning trains it too at a lower rate.
"""

from __future__ import annotations

import torch

from bot.worker.lab import plots
from bot.worker.lab.data import Split, target_splits
from bot.worker.lab.env import seed_everything
from bot.worker.lab.finetune import layerwise_adamw, mean, pct, per_seed, pretrained
from bot.worker.lab.train import accuracy, train_steps

SMALL_N, LARGE_N = 10, 1000  # the problem's two datasets: 1 and 100 images per class
SIZES = {
    "test": {"sizes": [SMALL_N, LARGE_N], "val": 300},
    "cpu": {"sizes": [SMALL_N, 100, LARGE_N], "val": 500},
    "full": {"sizes": [SMALL_N, 20, 50, 100, 250, LARGE_N], "val": 2000},
}
STEPS, BATCH = 60, 16
BACKBONE_LR, HEAD_LR = 1e-3, 1e-2
MARGIN = 0.02  # fine-tuning is worth its cost only if it wins by 2 points or more
ARMS = ("feature extraction", "fine-tuning")


def run(ctx):
    cfg = {**SIZES[ctx.size], **ctx.params}
    pre = pretrained(ctx)
    ctx.log(pre.describe())
    acc: dict[int, dict[str, list[float]]] = {n: {a: [] for a in ARMS} for n in cfg["sizes"]}
    fitted: list[float] = []  # fine-tuning's accuracy on its own SMALL_N training images
    total, done = len(cfg["sizes"]) * len(ctx.seeds), 0
    for seed in ctx.seeds:
        val_features = None  # the validation set and the frozen backbone are shared by all n
        for n in cfg["sizes"]:
            train, val = target_splits(n, cfg["val"], seed=seed)
            fe_acc, val_features = feature_extraction(ctx, pre, train, val, seed, val_features)
            acc[n]["feature extraction"].append(fe_acc)
            val_acc, train_acc = fine_tuning(ctx, pre, train, val, seed)
            acc[n]["fine-tuning"].append(val_acc)
            if n == SMALL_N:
                fitted.append(train_acc)
            done += 1
            ctx.progress(done, total, f"seed {seed}: {n} images")
    return report(ctx, acc, mean(fitted))


def feature_extraction(ctx, pre, train: Split, val: Split, seed: int,
                       val_features: Split | None) -> tuple[float, Split]:
    """Only the head trains, on the frozen backbone's eval-mode outputs (computed once)."""
    seed_everything(seed)
    model = pre.model(10, ctx.device)
    model.eval()
    with torch.no_grad():
        features = Split(model.backbone(train.images.to(ctx.device)), train.labels)
        if val_features is None:
            val_features = Split(model.backbone(val.images.to(ctx.device)), val.labels)
    head = model.fc
    optimizer = torch.optim.AdamW(head.parameters(), lr=HEAD_LR)
    train_steps(head, optimizer, features, steps=STEPS, batch=min(BATCH, len(train)),
                device=ctx.device, seed=seed)
    return accuracy(head, val_features, ctx.device), val_features


def fine_tuning(ctx, pre, train: Split, val: Split, seed: int) -> tuple[float, float]:
    """Every layer trains, the backbone at a lower rate; (validation, training) accuracy."""
    seed_everything(seed)
    model = pre.model(10, ctx.device)
    optimizer = layerwise_adamw(model, BACKBONE_LR, HEAD_LR)
    train_steps(model, optimizer, train, steps=STEPS, batch=min(BATCH, len(train)),
                device=ctx.device, seed=seed)
    return accuracy(model, val, ctx.device), accuracy(model, train, ctx.device)


def pick(fe: float, ft: float) -> str:
    """"FT" where fine-tuning wins by MARGIN or more, else the cheaper feature extraction."""
    return "FT" if ft - fe >= MARGIN else "FE"


def decide(small_fe: float, small_ft: float, large_fe: float, large_ft: float) -> str:
    """Maps mean validation accuracies at 2 and 100 images per class to a choice."""
    return {("FE", "FE"): "B", ("FT", "FT"): "A", ("FE", "FT"): "C",
            ("FT", "FE"): "D"}[(pick(small_fe, small_ft), pick(large_fe, large_ft))]


def report(ctx, acc: dict[int, dict[str, list[float]]], fitted: float) -> dict:
    ctx.log(f"\nSame head init, batches (of {BATCH}, or all the images when there are fewer), "
            f"steps ({STEPS}) and head rate ({HEAD_LR:g}) in both arms; fine-tuning also "
            f"trains the backbone at {BACKBONE_LR:g}. Validation accuracy, mean [per seed "
            f"{ctx.seeds}]:")
    for n, arms in acc.items():
        fe, ft = arms["feature extraction"], arms["fine-tuning"]
        ahead = sum(b > a for a, b in zip(fe, ft, strict=True))
        ctx.log(f"  {n} images ({n // 10} per class): feature extraction {pct(mean(fe))} "
                f"[{per_seed(fe)}], fine-tuning {pct(mean(ft))} [{per_seed(ft)}]; "
                f"fine-tuning ahead in {ahead} of {len(ft)} seeds")
    small, large = acc[SMALL_N], acc[LARGE_N]
    means = [mean(small["feature extraction"]), mean(small["fine-tuning"]),
             mean(large["feature extraction"]), mean(large["fine-tuning"])]
    answer = decide(*means)
    ctx.log(f"\nRule: fine-tune where it beats feature extraction by {MARGIN * 100:.0f} points "
            "or more (mean over seeds); otherwise the cheaper, safer feature extraction.")
    ctx.log(f"Difference (fine-tuning minus feature extraction): {SMALL_N} images "
            f"{(means[1] - means[0]) * 100:+.1f} points, {LARGE_N} images "
            f"{(means[3] - means[2]) * 100:+.1f} points -> answer {answer}.")
    ctx.log("\nWhy: " + EXPLAIN[answer].format(
        small=(means[1] - means[0]) * 100, large=(means[3] - means[2]) * 100,
        fitted=pct(fitted), small_ft=pct(means[1])))
    draw(ctx, acc)
    return {"answer": answer, "metrics": {
        "small_fe_acc": round(means[0], 4), "small_ft_acc": round(means[1], 4),
        "large_fe_acc": round(means[2], 4), "large_ft_acc": round(means[3], 4),
        "small_ft_train_acc": round(fitted, 4), "small_n": SMALL_N, "large_n": LARGE_N,
        "steps": STEPS, "seeds": len(ctx.seeds)}}


def draw(ctx, acc: dict[int, dict[str, list[float]]]) -> None:
    sizes = list(acc)
    series = {arm: [(sizes, [acc[n][arm][i] for n in sizes]) for i in range(len(ctx.seeds))]
              for arm in ARMS}
    fig = plots.curves("Feature extraction vs fine-tuning (one line per seed)", series,
                       xlabel="target training images (log scale)")
    fig.axes[0].set_xscale("log")
    ctx.figure("fe_vs_ft", fig)


EXPLAIN = {
    "C": ("with 1 image per class, training every layer changed accuracy by {small:+.1f} "
          "points against the frozen features: fine-tuning got {fitted} of its 10 training "
          "images right but {small_ft} of unseen ones, a sign that its backbone moved to fit "
          "those few images rather than the new classes. With 100 per class, training the "
          "backbone changed it by {large:+.1f} points: enough data to adapt the features to "
          "the new classes. Feature extraction with very little data, fine-tuning with more "
          "(answer C)."),
    "A": "fine-tuning won at both dataset sizes in this run ({small:+.1f}, {large:+.1f}).",
    "B": "feature extraction was as good at both sizes in this run ({small:+.1f}, {large:+.1f}).",
    "D": "fine-tuning won only with the small dataset in this run ({small:+.1f}, {large:+.1f}).",
}
