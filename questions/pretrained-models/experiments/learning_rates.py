"""Learning-rate strategies for fine-tuning a pretrained model, one per answer choice.

Every strategy starts from the same pretrained backbone with a new random head, on the same
small target task, batches and seeds. The score is the mean validation accuracy over the
run (the area under the learning curve), so a strategy wins by learning fast *and* ending
well; the final accuracy is reported beside it. One shared rate (D) is given its best chance:
three rates are tried and the best one counts, picked on the same validation data, which if
anything flatters D. The winner must lead the runner-up by a clear margin.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.worker.lab import plots
from bot.worker.lab.data import target_splits
from bot.worker.lab.env import seed_everything
from bot.worker.lab.finetune import frozen_parts, layerwise_adamw, mean, pct, per_seed, pretrained
from bot.worker.lab.train import Curve, accuracy, train_steps

SIZES = {
    "test": {"train": 500, "val": 300, "steps": 60, "eval_every": 10},
    "cpu": {"train": 500, "val": 300, "steps": 60, "eval_every": 10},  # = test: 1 thread
    "full": {"train": 500, "val": 2000, "steps": 300, "eval_every": 10},
}
LOW, HIGH, VERY_HIGH = 1e-3, 1e-2, 3e-2
SHARED_RATES = (1e-3, 3e-3, 1e-2)  # D's candidates: C's two rates and their geometric mean
EARLY_EVALS = 2  # "early" = the second evaluation (step 20 at every size)
MARGIN = 0.02  # the winner's mean score must beat the runner-up's by 2 points...
MAJORITY = 2 / 3  # ...and be the best in at least this share of seeds


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
    *(Strategy("D", f"one rate for all, {rate:g}", rate, rate) for rate in SHARED_RATES),
)


class NoClearWinner(RuntimeError):
    """No strategy led by the margin: the run cannot tell the choices apart."""


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
        ctx.log(f"  {strategy.choice}) {strategy.label} (backbone {strategy.backbone_lr:g}, "
                f"head {strategy.head_lr:g}): score {pct(mean(scores))} [{per_seed(scores)}], "
                f"final {pct(mean(finals))}")
        key = strategy.choice if strategy.choice != "D" else f"D{strategy.backbone_lr:g}"
        metrics[f"{key}_score"] = round(mean(scores), 4)
        metrics[f"{key}_final"] = round(mean(finals), 4)
    arms = best_per_choice(curves)
    by_letter = {str(s.choice): s for s in arms}
    ctx.log(f"D counts its best shared rate, {by_letter['D'].backbone_lr:g}.")
    scores = {letter: [score(c) for c in arms[s]] for letter, s in by_letter.items()}
    answer, lead, wins = derive(scores)
    ctx.figure("learning_curves", plots.curves(
        "Learning-rate strategies (one line per seed)",
        {s.label: [(c.steps, c.val_acc) for c in runs] for s, runs in arms.items()}))
    ctx.log(f"\nBest score: {answer}) {by_letter[answer].label}, {lead:.1%} ahead of the next "
            f"choice and best in {wins} of {len(ctx.seeds)} seeds.")
    if answer == "C":
        ctx.log(why_c({k: mean(v) for k, v in scores.items()}, by_letter["D"].backbone_lr))
    ctx.log(early_vs_final(arms, cfg["eval_every"] * EARLY_EVALS))
    return {"answer": answer, "metrics": {**metrics, "D_score": round(mean(scores["D"]), 4),
                                          "D_rate": by_letter["D"].backbone_lr,
                                          "lead": round(lead, 4), "best_in_seeds": wins,
                                          "seeds": len(ctx.seeds)}}


def why_c(score_of: dict[str, float], shared_rate: float) -> str:
    """Why C won, in this run's numbers; the mechanism is marked as general knowledge."""
    return (f"A high rate everywhere scored {score_of['A']:.0%} against C's {score_of['C']:.0%};"
            f" the best single shared rate ({shared_rate:g}) scored {score_of['D']:.0%}; "
            f"everything frozen stayed at {score_of['B']:.0%}. Why (general knowledge): the "
            "pretrained backbone needs only small changes while the new head starts from "
            "random, and separate rates let each part move at its own pace.")


def best_per_choice(curves: dict[Strategy, list[Curve]]) -> dict[Strategy, list[Curve]]:
    """Each choice's strategy; for a choice tried at several rates, the best-scoring one."""
    best: dict[str, Strategy] = {}
    for strategy, runs in curves.items():
        letter = str(strategy.choice)
        if letter not in best or mean([score(c) for c in runs]) > mean(
                [score(c) for c in curves[best[letter]]]):
            best[letter] = strategy
    return {s: curves[s] for s in best.values()}


def derive(scores: dict[str, list[float]]) -> tuple[str, float, int]:
    """The choice with the best mean score, its lead over the runner-up, and in how many
    seeds it scored best; raises NoClearWinner when the lead or the seeds fall short."""
    ranked = sorted(scores, key=lambda k: mean(scores[k]), reverse=True)
    best, runner_up = ranked[0], ranked[1]
    lead = mean(scores[best]) - mean(scores[runner_up])
    seeds = len(scores[best])
    wins = sum(max(scores, key=lambda k, i=i: scores[k][i]) == best for i in range(seeds))
    if lead < MARGIN or wins < MAJORITY * seeds:
        raise NoClearWinner(f"{best} led {runner_up} by {lead:.1%} and was best in {wins} of "
                            f"{seeds} seeds: not a clear winner")
    return best, lead, wins


def early_vs_final(curves: dict[Strategy, list[Curve]], early_step: int) -> str:
    """Accuracy at an early step and at the end, so speed and finish can be read apart."""
    parts = []
    for strategy, runs in curves.items():
        if strategy.choice and strategy.head_lr:
            early = mean([c.val_acc[min(EARLY_EVALS, len(c.val_acc) - 1)] for c in runs])
            final = mean([c.val_acc[-1] for c in runs])
            parts.append(f"{strategy.choice} {pct(early)} -> {pct(final)}")
    return f"Validation accuracy at step {early_step} -> at the end: " + "; ".join(parts) + "."
