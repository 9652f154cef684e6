"""Forgetting the source task: source accuracy before and after training on the target task.

The pretrained model's own source-task head is saved before a new head replaces it. After
training on the target task, the saved head goes back on the trained backbone and the model
is scored on held-out source images (seeds the pretraining never used). Same new-head init,
batches, steps and head rate in every arm:
- fine-tuning: every layer trains (backbone lr 3e-3, head lr 1e-2); the answer is read from it;
- fine-tuning at a 3x lower backbone rate, shown for reference (it moves the backbone less,
  so it forgets less, and on a few hundred source images the loss is close to the noise);
- feature extraction: backbone frozen (requires_grad=False) and in eval mode.
"""

from __future__ import annotations

import torch
from torch import nn

from bot.worker.lab import plots
from bot.worker.lab.data import Split, make_split, target_splits
from bot.worker.lab.env import seed_everything
from bot.worker.lab.finetune import layerwise_adamw, mean, pct, per_seed, pretrained
from bot.worker.lab.train import accuracy, train_steps

SIZES = {
    "test": {"val": 200, "source": 400},
    "cpu": {"val": 500, "source": 1000},
    "full": {"val": 2000, "source": 2000},
}
TRAIN, STEPS, BATCH, HEAD_LR = 200, 40, 8, 1e-2
FORGET = 0.005  # a change of half a point or more (2 of 400 images) counts
ARMS = {"fine-tuning": 3e-3, "fine-tuning, 3x lower rate": 1e-3, "feature extraction": 0.0}
FT, GENTLE, FE = ARMS


def run(ctx):
    cfg = {**SIZES[ctx.size], **ctx.params}
    pre = pretrained(ctx)
    ctx.log(pre.describe())
    before: list[float] = []
    after: dict[str, list[float]] = {a: [] for a in ARMS}
    target: dict[str, list[float]] = {a: [] for a in ARMS}
    identical: list[bool] = []  # feature extraction's backbone vs the pretrained one
    moved: dict[str, list[float]] = {a: [] for a in ARMS}  # relative weight change
    total, done = len(ARMS) * len(ctx.seeds), 0
    for seed in ctx.seeds:
        train, val = target_splits(TRAIN, cfg["val"], seed=seed)
        source = make_split("source", cfg["source"], seed=30_000 + seed)
        source_head = saved_head(pre, ctx.device)
        before.append(source_accuracy(pre.model(10, ctx.device), source_head, source,
                                      ctx.device))
        for arm, backbone_lr in ARMS.items():
            seed_everything(seed)
            model = pre.model(10, ctx.device)
            target[arm].append(train_arm(ctx, model, backbone_lr, train, val, seed))
            after[arm].append(source_accuracy(model, source_head, source, ctx.device))
            moved[arm].append(weight_change(model, pre.state))
            if arm == FE:
                identical.append(same_backbone(model, pre.state))
            done += 1
            ctx.progress(done, total, f"seed {seed}: {arm}")
    return report(ctx, before, after, target, {a: mean(v) for a, v in moved.items()},
                  all(identical), cfg)


def saved_head(pre, device: str) -> nn.Linear:
    """The source-task head as it was after pretraining."""
    weight, bias = pre.state["fc.weight"], pre.state["fc.bias"]
    head = nn.Linear(weight.shape[1], weight.shape[0])
    head.load_state_dict({"weight": weight, "bias": bias})
    return head.to(device)


def source_accuracy(model, source_head: nn.Linear, source: Split, device: str) -> float:
    """The backbone as it is now, with the source head put back."""
    target_head, model.fc = model.fc, source_head
    acc = accuracy(model, source, device)
    model.fc = target_head
    return acc


def train_arm(ctx, model, backbone_lr: float, train: Split, val: Split, seed: int) -> float:
    if backbone_lr:
        train_steps(model, layerwise_adamw(model, backbone_lr, HEAD_LR), train, steps=STEPS,
                    batch=BATCH, device=ctx.device, seed=seed)
        return accuracy(model, val, ctx.device)
    # Feature extraction: the frozen eval-mode backbone is a fixed function, so its outputs
    # are computed once and the head trains on them.
    for param in model.backbone.parameters():
        param.requires_grad = False
    model.eval()
    with torch.no_grad():
        train, val = (Split(model.backbone(s.images.to(ctx.device)), s.labels)
                      for s in (train, val))
    train_steps(model.fc, torch.optim.AdamW(model.fc.parameters(), lr=HEAD_LR), train,
                steps=STEPS, batch=BATCH, device=ctx.device, seed=seed)
    return accuracy(model.fc, val, ctx.device)


def weight_change(model, state: dict[str, torch.Tensor]) -> float:
    """||w - w_pretrained|| / ||w_pretrained|| over the backbone's weights."""
    diff = total = 0.0
    for name, param in model.backbone.named_parameters():
        start = state[f"backbone.{name}"].to(param.device)
        diff += float((param.detach() - start).pow(2).sum())
        total += float(start.pow(2).sum())
    return (diff / total) ** 0.5


def same_backbone(model, state: dict[str, torch.Tensor]) -> bool:
    """Every backbone weight and batch-norm statistic equal to the pretrained one."""
    return all(torch.equal(value.cpu(), state[f"backbone.{name}"])
               for name, value in model.backbone.state_dict().items())


def decide(fine_tuning_drop: float, feature_extraction_drop: float) -> str:
    """Maps the mean drops in source accuracy (before minus after) to a choice."""
    ft, fe = fine_tuning_drop, feature_extraction_drop
    if ft <= -FORGET:
        return "D"  # fine-tuning raised source accuracy
    if abs(ft) < FORGET and abs(fe) < FORGET:
        return "A"  # neither changed it
    if ft >= FORGET and fe >= FORGET:
        return "B"  # both lost it
    if ft >= FORGET and abs(fe) < FORGET:
        return "C"
    raise ValueError(f"drops {ft:.4f} and {fe:.4f} match no choice")


def report(ctx, before: list[float], after: dict[str, list[float]],
           target: dict[str, list[float]], moved: dict[str, float], identical: bool,
           cfg) -> dict:
    ctx.log(f"\nTrained on {TRAIN} target images, {STEPS} steps of {BATCH}, head lr "
            f"{HEAD_LR:g}. Source accuracy on {cfg['source']} held-out source images with the "
            f"saved head, mean [per seed {ctx.seeds}]: before {pct(mean(before))} "
            f"[{per_seed(before)}]; after:")
    drops: dict[str, float] = {}
    for arm, rate in ARMS.items():
        per = [b - a for b, a in zip(before, after[arm], strict=True)]
        drops[arm] = mean(per)
        ctx.log(f"  {arm} (backbone lr {rate:g}): {pct(mean(after[arm]))} "
                f"[{per_seed(after[arm])}], {drops[arm] * 100:.1f} points lost, lower in "
                f"{sum(d > 0 for d in per)} of {len(per)} seeds; backbone weights moved "
                f"{moved[arm]:.1%}; target accuracy {pct(mean(target[arm]))}")
    ctx.log("Feature extraction's backbone after training is "
            f"{'identical to' if identical else 'NOT identical to'} the pretrained one.")
    answer = decide(drops[FT], drops[FE])
    ctx.log(f"A change of {FORGET * 100:.1f} points or more counts -> answer {answer}.")
    if answer == "C" and not identical:
        raise RuntimeError("the frozen backbone changed: the explanation would not hold")
    ctx.log("\nWhy: " + EXPLAIN[answer].format(
        ft=drops[FT] * 100, gentle=drops[GENTLE] * 100, fe=drops[FE] * 100,
        moved=f"{moved[FT]:.1%}", moved_gentle=f"{moved[GENTLE]:.1%}",
        trend=" The further the shared weights moved, the more was forgotten." if
        drops[FT] > drops[GENTLE] >= drops[FE] and moved[FT] > moved[GENTLE] else ""))
    ctx.figure("forgetting", plots.bars(
        "Source-task accuracy with the saved head (mean over seeds)",
        {"before": mean(before), **{a.replace(", ", "\n"): mean(after[a]) for a in ARMS}},
        ylabel="source accuracy"))
    return {"answer": answer, "metrics": {
        "source_before": round(mean(before), 4), "drop_fine_tuning": round(drops[FT], 4),
        "drop_fine_tuning_lower_rate": round(drops[GENTLE], 4),
        "drop_feature_extraction": round(drops[FE], 4),
        "target_fine_tuning": round(mean(target[FT]), 4),
        "target_feature_extraction": round(mean(target[FE]), 4),
        "fe_backbone_identical": int(identical), "seeds": len(ctx.seeds)}}


EXPLAIN = {
    "C": ("the source head was saved untouched, so every change came from the shared "
          "backbone. Fine-tuning moved its weights {moved} (relative to their size) toward the "
          "target task and lost {ft:.1f} points of source accuracy; at a 3x lower rate they "
          "moved {moved_gentle} and it lost {gentle:.1f}. The frozen eval-mode backbone is "
          "bit-for-bit the pretrained one, so feature extraction lost {fe:.1f}.{trend} "
          "Measure it exactly this way: source accuracy with the saved head, before and "
          "after (answer C)."),
    "A": "neither way of training changed source accuracy in this run ({ft:.1f}, {fe:.1f}).",
    "B": "both ways of training lost source accuracy in this run ({ft:.1f}, {fe:.1f}).",
    "D": "fine-tuning raised source accuracy in this run ({ft:.1f} points lost).",
}
