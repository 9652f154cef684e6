"""Accuracy vs macro-F1 of a predictor that always says "negative", on 950 negatives + 50 positives.

The metrics are computed in torch from the confusion matrix and cross-checked against
sklearn.metrics. A random guesser that says "positive" 5% of the time is scored too, as the
chance level; and the constant predictor is scored at other positive rates for the figure.
"""

from __future__ import annotations

import statistics

import torch

from bot.worker.lab.env import one_thread, seed_everything

SIZES = {  # the problem's test set is 950 + 50; larger sizes only add the figure's sweep
    "test": {"negatives": 950, "positives": 50, "sweep": (0.01, 0.05, 0.2, 0.5)},
    "cpu": {"negatives": 950, "positives": 50, "sweep": (0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5)},
    "full": {"negatives": 950, "positives": 50, "sweep": (0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5)},
}
# The choices, as numbers: the derived answer is the one within TOLERANCE of the measurement.
CHOICE_VALUES = {"A": 0.95, "B": 0.487, "C": 0.0, "D": 0.05}
TOLERANCE = 0.02


def confusion(y_true: torch.Tensor, y_pred: torch.Tensor, classes: int) -> torch.Tensor:
    """Rows: true class, columns: predicted class (sklearn's convention)."""
    return torch.bincount(y_true * classes + y_pred, minlength=classes * classes).reshape(
        classes, classes)


def scores(cm: torch.Tensor) -> dict[str, float]:
    """Accuracy and macro-F1 from a confusion matrix; 0/0 counts as 0, as zero_division=0."""
    cm = cm.double()
    tp = cm.diag()
    precision = torch.where(cm.sum(0) > 0, tp / cm.sum(0).clamp(min=1), 0.0)
    recall = torch.where(cm.sum(1) > 0, tp / cm.sum(1).clamp(min=1), 0.0)
    f1 = torch.where(precision + recall > 0,
                     2 * precision * recall / (precision + recall).clamp(min=1e-12), 0.0)
    return {"accuracy": float(tp.sum() / cm.sum()), "macro_f1": float(f1.mean()),
            "f1_negative": float(f1[0]), "f1_positive": float(f1[1])}


def sklearn_scores(y_true: torch.Tensor, y_pred: torch.Tensor) -> dict[str, float]:
    from sklearn.metrics import accuracy_score, f1_score

    t, p = y_true.cpu().numpy(), y_pred.cpu().numpy()
    return {"accuracy": float(accuracy_score(t, p)),
            "macro_f1": float(f1_score(t, p, average="macro", zero_division=0))}


def run(ctx):
    with one_thread(ctx.device):
        return measure_and_report(ctx)


def measure_and_report(ctx):
    cfg = {**SIZES[ctx.size], **ctx.params}
    neg, pos = cfg["negatives"], cfg["positives"]
    majority, guesser, worst_gap = [], [], 0.0
    for index, seed in enumerate(ctx.seeds):
        seed_everything(seed)
        labels = torch.cat([torch.zeros(neg, dtype=torch.long), torch.ones(pos, dtype=torch.long)])
        y_true = labels[torch.randperm(neg + pos)].to(ctx.device)
        always_negative = torch.zeros_like(y_true)
        coin = (torch.rand(neg + pos) < pos / (neg + pos)).long().to(ctx.device)
        for preds, sink in ((always_negative, majority), (coin, guesser)):
            ours = scores(confusion(y_true, preds, 2))
            theirs = sklearn_scores(y_true, preds)
            worst_gap = max(worst_gap, *(abs(ours[k] - theirs[k]) for k in theirs))
            sink.append(ours)
        ctx.progress(index + 1, len(ctx.seeds), f"seed {seed}")
    if worst_gap > 1e-9:
        raise RuntimeError(f"torch and sklearn disagree by {worst_gap}")
    return report(ctx, cfg, majority, guesser, worst_gap)


def report(ctx, cfg, majority, guesser, worst_gap: float) -> dict:
    neg, pos = cfg["negatives"], cfg["positives"]
    acc = statistics.median(m["accuracy"] for m in majority)
    macro = statistics.median(m["macro_f1"] for m in majority)
    f1_neg = majority[0]["f1_negative"]
    same = sum(abs(m["macro_f1"] - macro) < 1e-12 for m in majority)
    g_acc = statistics.fmean(g["accuracy"] for g in guesser)
    g_macro = statistics.fmean(g["macro_f1"] for g in guesser)
    ctx.log(f"Test set: {neg} negatives + {pos} positives, shuffled by seed ({len(ctx.seeds)} "
            "seeds). Metrics computed in torch from the confusion matrix and cross-checked "
            f"against sklearn.metrics (accuracy_score, f1_score average='macro'): largest "
            f"difference {worst_gap:.1e}.")
    ctx.log(f"\nAlways 'negative': accuracy {acc:.3f}, macro-F1 {macro:.3f} "
            f"(the same in {same} of {len(majority)} seeds)")
    ctx.log(f"  F1 of 'negative' {f1_neg:.3f}, F1 of 'positive' "
            f"{majority[0]['f1_positive']:.3f}; macro-F1 is their plain mean.")
    ctx.log(f"Random guesser saying 'positive' {pos / (neg + pos):.0%} of the time (mean of "
            f"seeds): accuracy {g_acc:.3f}, macro-F1 {g_macro:.3f}")
    sweep = {}
    for rate in cfg["sweep"]:
        n_pos = round(1000 * rate)
        y = torch.cat([torch.zeros(1000 - n_pos, dtype=torch.long),
                       torch.ones(n_pos, dtype=torch.long)])
        sweep[rate] = scores(confusion(y, torch.zeros_like(y), 2))
    ctx.log("Always 'negative' at other positive rates: " + ", ".join(
        f"{r:.0%}: acc {s['accuracy']:.2f} / macro-F1 {s['macro_f1']:.2f}"
        for r, s in sweep.items()))
    draw(ctx, sweep)
    answer = decide(macro)
    ctx.log(f"\nWhy: the constant predictor finds all {neg} negatives, so class 'negative' has "
            f"precision {neg / (neg + pos):.2f}, recall 1.00 and F1 {f1_neg:.3f}. It never "
            f"predicts 'positive', so that class has recall 0 and F1 0. Macro-F1 averages the "
            f"two classes equally: ({f1_neg:.3f} + 0) / 2 = {macro:.3f}. Accuracy "
            f"({acc:.2f}) only counts correct rows, and {neg / (neg + pos):.0%} of rows are "
            f"negative. " + (f"Macro-F1 even ranks it below the random guesser ({g_macro:.3f})."
                              if g_macro > macro else
                              f"The random guesser scored {g_macro:.3f} macro-F1 here."))
    return {"answer": answer, "metrics": {
        "accuracy": round(acc, 4), "macro_f1": round(macro, 4), "f1_negative": round(f1_neg, 4),
        "guesser_accuracy": round(g_acc, 4), "guesser_macro_f1": round(g_macro, 4),
        "torch_vs_sklearn_max_diff": worst_gap, "seeds": len(ctx.seeds)}}


def decide(macro_f1: float) -> str:
    """The choice whose number the measured macro-F1 matches."""
    matches = [k for k, v in CHOICE_VALUES.items() if abs(v - macro_f1) <= TOLERANCE]
    if len(matches) != 1:
        raise ValueError(f"macro-F1 {macro_f1:.3f} matches no single choice")
    return matches[0]


def draw(ctx, sweep: dict[float, dict[str, float]]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rates = list(sweep)
    fig, ax = plt.subplots(figsize=(6.4, 3.6), dpi=100)
    ax.plot(rates, [sweep[r]["accuracy"] for r in rates], "o-", label="accuracy")
    ax.plot(rates, [sweep[r]["macro_f1"] for r in rates], "s-", label="macro-F1")
    ax.set(title="A predictor that always says 'negative'", xlabel="share of positives",
           ylabel="score", ylim=(0, 1.02))
    ax.grid(alpha=0.3)
    ax.legend(loc="center right", fontsize="small")
    fig.tight_layout()
    ctx.figure("majority-accuracy-vs-macro-f1", fig)
