"""Pre-trained vs from scratch: how many steps each needs to reach a target accuracy.

Same network, same 500 training images of the target task, same optimiser, learning rate
and batches; the only difference is the starting weights (pretrained on the source task, or
random). Seconds per step are measured too, so a speed-up from cheaper steps would show.
"""

from __future__ import annotations

import statistics
import time

from bot.worker.lab import plots
from bot.worker.lab.data import target_splits
from bot.worker.lab.env import seed_everything
from bot.worker.lab.finetune import SMALL, layerwise_adamw, pretrained, scratch_model
from bot.worker.lab.train import train_steps

SIZES = {
    "test": {"train": 500, "val": 500, "steps": 150, "eval_every": 10},
    "cpu": {"train": 500, "val": 500, "steps": 150, "eval_every": 10},
    "full": {"train": 500, "val": 2000, "steps": 400, "eval_every": 10},
}
TARGET = 0.85
LR = 3e-3  # one AdamW rate for every layer of both starts; the best for random weights in trials
FEWER_STEPS = 1.5  # "clearly fewer": at most 2/3 of the steps, in every seed
CHEAPER_STEPS = 1.5  # a step at most 2/3 the time would mean the speed-up came from cheap steps


def run(ctx):
    cfg = {**SIZES[ctx.size], **ctx.params}
    target = float(cfg.get("target", TARGET))
    pre = pretrained(ctx)
    ctx.log(pre.describe())
    runs = {"pre-trained": [], "from scratch": []}
    seconds = {"pre-trained": 0.0, "from scratch": 0.0}
    total = 2 * len(ctx.seeds)
    for index, seed in enumerate(ctx.seeds):
        train, val = target_splits(cfg["train"], cfg["val"], seed=seed)
        for start in runs:
            seed_everything(seed)
            model = (pre.model(10, ctx.device) if start == "pre-trained"
                     else scratch_model(SMALL.width, 10, ctx.device))
            started = time.perf_counter()
            curve = train_steps(model, layerwise_adamw(model, LR, LR), train,
                                steps=cfg["steps"], batch=32, device=ctx.device, seed=seed,
                                val=val, eval_every=cfg["eval_every"])
            seconds[start] += time.perf_counter() - started
            runs[start].append(curve)
            done = 2 * index + (1 if start == "pre-trained" else 2)
            ctx.progress(done, total, f"seed {seed}: {start}")
    return report(ctx, runs, target, cfg, seconds)


def steps_or_cap(curve, target: float, cap: int) -> tuple[int, bool]:
    steps = curve.steps_to(target)
    return (cap, False) if steps is None else (steps, True)


def report(ctx, runs, target: float, cfg, seconds: dict[str, float]) -> dict:
    cap = cfg["steps"]
    pre = [steps_or_cap(c, target, cap) for c in runs["pre-trained"]]
    scratch = [steps_or_cap(c, target, cap) for c in runs["from scratch"]]
    ratios = [s / max(p, 1) for (p, _), (s, _) in zip(pre, scratch, strict=True)]
    ctx.log(f"\nTarget task: {cfg['train']} training images of 10 new shape classes; "
            f"validation on {cfg['val']} others. Both starts: AdamW at {LR:g} for every layer, "
            f"batch 32. Steps to reach {target:.0%} validation accuracy, for seeds "
            f"{ctx.seeds}:")
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
    step_ratio = seconds["from scratch"] / max(seconds["pre-trained"], 1e-9)
    same = 0.8 <= step_ratio <= 1.25
    ctx.log(f"Time per training run: pre-trained {seconds['pre-trained'] / len(ctx.seeds):.2f}"
            f" s, from scratch {seconds['from scratch'] / len(ctx.seeds):.2f} s for the same "
            f"{cap} steps with their evaluations"
            + (": about the same, as the same network does the same work per step."
               if same else "."))
    answer = derive(pre, scratch, start_acc, target, step_ratio)
    ctx.log(explain(answer, statistics.median(ratios)))
    return {"answer": answer, "metrics": {
        "target_accuracy": target,
        "pretrained_steps_median": statistics.median(p for p, _ in pre),
        "scratch_steps_median": statistics.median(s for s, _ in scratch),
        "speedup_median": round(statistics.median(ratios), 2),
        "pretrained_final_acc": round(final["pre-trained"], 4),
        "scratch_final_acc": round(final["from scratch"], 4),
        "scratch_over_pretrained_time": round(step_ratio, 3), "seeds": len(ctx.seeds)}}


class NoSpeedUp(RuntimeError):
    """The run found no clear speed-up, which none of the choices describes."""


def derive(pre, scratch, start_acc, target: float, time_ratio: float) -> str:
    """Which choice the measurements support.

    `pre` and `scratch` hold (steps to the target, reached?) per seed; `start_acc` the
    pretrained model's accuracy before any training; `time_ratio` the seconds of the
    from-scratch runs over the pretrained runs, for the same number of steps."""
    if all(acc >= target for acc in start_acc):
        return "C"  # it reached the target with no training at all: inference only
    fewer = all(p_ok and p * FEWER_STEPS <= s
                for (p, p_ok), (s, _) in zip(pre, scratch, strict=True))
    if not fewer:
        raise NoSpeedUp("pre-training did not need clearly fewer steps in every seed")
    if time_ratio >= CHEAPER_STEPS:
        return "B"  # the steps themselves were cheaper: a faster computation, not a head start
    return "D"


def explain(answer: str, ratio: float) -> str:
    if answer == "D":
        return (f"\nSame architecture, data, optimiser and learning rate: starting from weights "
                f"learned on the source task needed about {ratio:.1f}x fewer steps (median), "
                "and it still needed training. That is answer D.")
    if answer == "B":
        return "\nHere each pretrained step was itself much cheaper: a faster computation."
    return "\nThe pretrained model met the target before any training: inference alone."
