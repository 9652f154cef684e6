"""Pre-trained vs from scratch: how many steps each needs to reach a target accuracy.

Same network, same 500 training images of the target task, same optimiser and batches;
the only difference is the starting weights (pretrained on the source task, or random).
"""

from __future__ import annotations

import statistics

from bot.worker.lab import plots
from bot.worker.lab.data import target_splits
from bot.worker.lab.env import seed_everything
from bot.worker.lab.finetune import SMALL, layerwise_adamw, pretrained, scratch_model
from bot.worker.lab.train import train_steps

SIZES = {
    "test": {"train": 500, "val": 500, "steps": 150, "eval_every": 10},
    "cpu": {"train": 500, "val": 800, "steps": 200, "eval_every": 10},
    "full": {"train": 500, "val": 2000, "steps": 400, "eval_every": 10},
}
TARGET = 0.85
BACKBONE_LR, HEAD_LR = 1e-3, 1e-2
SCRATCH_LR = 3e-3  # the best single rate for random weights in trial runs


def run(ctx):
    cfg = {**SIZES[ctx.size], **ctx.params}
    target = float(cfg.get("target", TARGET))
    pre = pretrained(ctx)
    ctx.log(pre.describe())
    runs = {"pre-trained": [], "from scratch": []}
    total = 2 * len(ctx.seeds)
    for index, seed in enumerate(ctx.seeds):
        train, val = target_splits(cfg["train"], cfg["val"], seed=seed)
        for start in runs:
            seed_everything(seed)
            model = (pre.model(10, ctx.device) if start == "pre-trained"
                     else scratch_model(SMALL.width, 10, ctx.device))
            lrs = (BACKBONE_LR, HEAD_LR) if start == "pre-trained" else (SCRATCH_LR, SCRATCH_LR)
            curve = train_steps(model, layerwise_adamw(model, *lrs), train,
                                steps=cfg["steps"], batch=32, device=ctx.device, seed=seed,
                                val=val, eval_every=cfg["eval_every"])
            runs[start].append(curve)
            done = 2 * index + (1 if start == "pre-trained" else 2)
            ctx.progress(done, total, f"seed {seed}: {start}")
    return report(ctx, runs, target, cfg)


def steps_or_cap(curve, target: float, cap: int) -> tuple[int, bool]:
    steps = curve.steps_to(target)
    return (cap, False) if steps is None else (steps, True)


def report(ctx, runs, target: float, cfg) -> dict:
    cap = cfg["steps"]
    pre = [steps_or_cap(c, target, cap) for c in runs["pre-trained"]]
    scratch = [steps_or_cap(c, target, cap) for c in runs["from scratch"]]
    ratios = [s / max(p, 1) for (p, _), (s, _) in zip(pre, scratch, strict=True)]
    ctx.log(f"\nTarget task: {cfg['train']} training images of 10 new shape classes; "
            f"validation on {cfg['val']} others. Steps to reach {target:.0%} validation "
            f"accuracy (batch 32), for seeds {ctx.seeds}:")
    for seed, (p, p_ok), (s, s_ok), ratio in zip(ctx.seeds, pre, scratch, ratios, strict=True):
        more = "" if s_ok else "+ (never, within the run)"
        ctx.log(f"  seed {seed}: pre-trained {p if p_ok else f'>{p}'} steps, from scratch "
                f"{s}{more} steps: {'at least ' if not s_ok else ''}{ratio:.1f}x fewer")
    start_acc = [c.val_acc[0] for c in runs["pre-trained"]]
    final = {k: statistics.fmean(c.val_acc[-1] for c in v) for k, v in runs.items()}
    ctx.log(f"Accuracy before any fine-tuning (new random head): "
            f"{statistics.fmean(start_acc):.0%}, chance level, so training is still needed.")
    ctx.log(f"After {cap} steps: pre-trained {final['pre-trained']:.0%}, from scratch "
            f"{final['from scratch']:.0%} (mean over seeds).")
    ctx.figure("learning_curves", plots.curves(
        "Pre-trained vs from scratch (one line per seed)",
        {k: [(c.steps, c.val_acc) for c in v] for k, v in runs.items()}, target=target))
    answer = derive(pre, scratch, start_acc, target)
    ctx.log(explain(answer, statistics.median(ratios)))
    return {"answer": answer, "metrics": {
        "target_accuracy": target,
        "pretrained_steps_median": statistics.median(p for p, _ in pre),
        "scratch_steps_median": statistics.median(s for s, _ in scratch),
        "speedup_median": round(statistics.median(ratios), 2),
        "pretrained_final_acc": round(final["pre-trained"], 4),
        "scratch_final_acc": round(final["from scratch"], 4),
        "seeds": len(ctx.seeds)}}


def derive(pre, scratch, start_acc, target: float) -> str:
    """D when the pretrained start needs clearly fewer steps in every seed, yet some."""
    if all(acc >= target for acc in start_acc):
        return "C"  # it would need no training at all
    faster = all(p_ok and p * 1.5 <= s for (p, p_ok), (s, _) in zip(pre, scratch, strict=True))
    return "D" if faster else "B"


def explain(answer: str, ratio: float) -> str:
    if answer == "D":
        return (f"\nSame architecture, same data, same optimiser: starting from weights that "
                f"already encode strokes, edges and corners needed about {ratio:.1f}x fewer "
                "steps, yet still needed training. That is answer D.")
    return ("\nThis run did not show a clear speed-up from pre-training in every seed, so it "
            "does not support answer D.")
