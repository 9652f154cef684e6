"""Learning-rate strategies for fine-tuning a pretrained model, one per answer choice.

Every strategy starts from the same pretrained backbone with a new random head, on the same
small target task, batches and seeds. The score is the mean validation accuracy over the
run (the area under the learning curve), so a strategy wins by learning fast *and* ending
well; the final accuracy is reported beside it.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.worker.lab import plots
from bot.worker.lab.data import target_splits
from bot.worker.lab.env import seed_everything
from bot.worker.lab.finetune import frozen_parts, layerwise_adamw, mean, pct, per_seed, pretrained
from bot.worker.lab.train import Curve, accuracy, train_steps

SIZES = {
    "test": {"train": 500, "val": 500, "steps": 100, "eval_every": 10},
    "cpu": {"train": 500, "val": 800, "steps": 120, "eval_every": 10},
    "full": {"train": 500, "val": 2000, "steps": 300, "eval_every": 10},
}
LOW, HIGH, VERY_HIGH = 1e-3, 1e-2, 3e-2
EARLY_EVALS = 2  # "early" = the second evaluation (step 20 at every size)


@dataclass(frozen=True)
class Strategy:
    choice: str | None  # None: shown for reference, not one of the answers
    label: str
    backbone_lr: float
    head_lr: float


STRATEGIES = (
    Strategy("A", "high rate everywhere", VERY_HIGH, VERY_HIGH),
    Strategy("B", "everything frozen", 0.0, 0.0),
    Strategy("C", "low backbone, higher head", LOW, HIGH),
    # One shared rate must compromise; the geometric mean of C's two rates is the fair one.
    Strategy("D", "one rate for all", (LOW * HIGH) ** 0.5, (LOW * HIGH) ** 0.5),
    Strategy(None, "frozen backbone, head only", 0.0, HIGH),
)


def run(ctx):
    cfg = {**SIZES[ctx.size], **ctx.params}
    pre = pretrained(ctx)
    ctx.log(pre.describe())
    curves: dict[Strategy, list[Curve]] = {s: [] for s in STRATEGIES}
    total, done = len(STRATEGIES) * len(ctx.seeds), 0
    for seed in ctx.seeds:
        train, val = target_splits(cfg["train"], cfg["val"], seed=seed)
        for strategy in STRATEGIES:
            seed_everything(seed)
            curves[strategy].append(train_one(ctx, pre, strategy, train, val, seed, cfg))
            done += 1
            ctx.progress(done, total, f"seed {seed}: {strategy.label}")
    return report(ctx, curves, cfg)


def train_one(ctx, pre, strategy: Strategy, train, val, seed: int, cfg) -> Curve:
    model = pre.model(10, ctx.device)
    if strategy.head_lr == 0:  # nothing is updated: the curve is flat at the starting accuracy
        acc = accuracy(model, val, ctx.device)
        return Curve(steps=[0, cfg["steps"]], val_acc=[acc, acc])
    optimizer = layerwise_adamw(model, strategy.backbone_lr, strategy.head_lr)
    return train_steps(model, optimizer, train, steps=cfg["steps"], batch=32,
                       device=ctx.device, seed=seed, val=val, eval_every=cfg["eval_every"],
                       keep_eval_mode=frozen_parts(model, strategy.backbone_lr))


def score(curve: Curve) -> float:
    """Mean validation accuracy after step 0: rewards a fast start and a good finish."""
    return mean(curve.val_acc[1:])


def report(ctx, curves: dict[Strategy, list[Curve]], cfg) -> dict:
    ctx.log(f"\nFine-tuning on {cfg['train']} target images for {cfg['steps']} steps (AdamW, "
            f"batch 32), seeds {ctx.seeds}. Score = mean validation accuracy along the run.")
    metrics: dict[str, float | int | str] = {}
    for strategy, runs in curves.items():
        scores, finals = [score(c) for c in runs], [c.val_acc[-1] for c in runs]
        name = f"{strategy.choice}) " if strategy.choice else "   "
        ctx.log(f"  {name}{strategy.label} (backbone {strategy.backbone_lr:g}, head "
                f"{strategy.head_lr:g}): score {pct(mean(scores))} [{per_seed(scores)}], "
                f"final {pct(mean(finals))}")
        key = strategy.choice or "head_only"
        metrics[f"{key}_score"], metrics[f"{key}_final"] = round(mean(scores), 4), round(
            mean(finals), 4)
    answer, wins = derive(curves)
    ctx.figure("learning_curves", plots.curves(
        "Learning-rate strategies (one line per seed)",
        {s.label: [(c.steps, c.val_acc) for c in runs] for s, runs in curves.items()}))
    ctx.log(f"\nBest score: {answer}) {choice(answer).label}, best in {wins} of "
            f"{len(ctx.seeds)} seeds. {WHY.get(answer, '')}")
    ctx.log(early_vs_final(curves, cfg["eval_every"] * EARLY_EVALS))
    return {"answer": answer, "metrics": {**metrics, "best_in_seeds": wins,
                                          "seeds": len(ctx.seeds)}}


def derive(curves: dict[Strategy, list[Curve]]) -> tuple[str, int]:
    """The answer choice with the best mean score, and in how many seeds it was best."""
    answers = {s: runs for s, runs in curves.items() if s.choice}
    best = max(answers, key=lambda s: mean([score(c) for c in answers[s]]))
    seeds = len(answers[best])
    wins = sum(max(answers, key=lambda s, i=i: score(answers[s][i])) is best
               for i in range(seeds))
    return str(best.choice), wins


def early_vs_final(curves: dict[Strategy, list[Curve]], early_step: int) -> str:
    """Accuracy at an early step and at the end, so speed and finish can be read apart."""
    parts = []
    for strategy, runs in curves.items():
        if strategy.choice and strategy.head_lr:
            early = mean([c.val_acc[min(EARLY_EVALS, len(c.val_acc) - 1)] for c in runs])
            final = mean([c.val_acc[-1] for c in runs])
            parts.append(f"{strategy.choice} {pct(early)} -> {pct(final)}")
    return f"Validation accuracy at step {early_step} -> at the end: " + "; ".join(parts) + "."


def choice(letter: str) -> Strategy:
    return next(s for s in STRATEGIES if s.choice == letter)


WHY = {
    "C": ("The pretrained backbone needs only small nudges, while the random head must learn "
          "from nothing: a low rate keeps the useful features, a high head rate learns fast. "
          "A high rate everywhere overwrites the pretrained features; one shared rate is a "
          "compromise, too high for the backbone or too low for the head; freezing "
          "everything learns nothing. Training only the head on a frozen backbone is shown "
          "for reference."),
}
