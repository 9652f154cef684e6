"""Micro-averaged F1 against four candidates, on many single-label multi-class predictions.

Per seed: 3-, 5- and 10-class label sets with imbalanced classes, and predictions of three
qualities (right 30%, 60% or 90% of the time, otherwise a guess biased to the big classes).
Micro-F1 is computed in torch from TP, FP and FN pooled over classes; the candidates from
the same confusion matrix; every number is cross-checked against sklearn.metrics.
"""

from __future__ import annotations

import torch

from bot.worker.lab.env import one_thread, seed_everything

SIZES = {"test": {"rows": 400}, "cpu": {"rows": 4000}, "full": {"rows": 40000}}
CLASSES = (3, 5, 10)
QUALITIES = (0.3, 0.6, 0.9)
CANDIDATES = {"A": "macro-F1", "B": "weighted F1", "C": "accuracy",
              "D": "F1 of the most frequent class"}
EQUAL = 1e-9  # "always equal": within rounding in every case


def per_class(cm: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Precision, recall, F1 per class (0 where undefined, as sklearn's zero_division=0)."""
    tp = cm.diag()
    precision = torch.where(cm.sum(0) > 0, tp / cm.sum(0).clamp(min=1), 0.0)
    recall = torch.where(cm.sum(1) > 0, tp / cm.sum(1).clamp(min=1), 0.0)
    f1 = torch.where(precision + recall > 0,
                     2 * precision * recall / (precision + recall).clamp(min=1e-12), 0.0)
    return precision, recall, f1


def metrics(y_true: torch.Tensor, y_pred: torch.Tensor, k: int) -> dict[str, float]:
    cm = torch.bincount(y_true * k + y_pred, minlength=k * k).reshape(k, k).double()
    tp = cm.diag().sum()
    fp, fn = cm.sum(0).sum() - tp, cm.sum(1).sum() - tp  # pooled over classes
    micro_p, micro_r = tp / (tp + fp), tp / (tp + fn)
    _, _, f1 = per_class(cm)
    support = cm.sum(1)
    return {
        "micro-F1": float(2 * micro_p * micro_r / (micro_p + micro_r)),
        "macro-F1": float(f1.mean()),
        "weighted F1": float((f1 * support).sum() / support.sum()),
        "accuracy": float(tp / cm.sum()),
        "F1 of the most frequent class": float(f1[support.argmax()]),
    }


def sklearn_metrics(y_true: torch.Tensor, y_pred: torch.Tensor, k: int) -> dict[str, float]:
    from sklearn.metrics import accuracy_score, f1_score

    t, p, labels = y_true.cpu().numpy(), y_pred.cpu().numpy(), list(range(k))
    f1 = lambda avg: float(f1_score(t, p, labels=labels, average=avg, zero_division=0))  # noqa: E731
    biggest = int(torch.bincount(y_true.cpu(), minlength=k).argmax())
    return {"micro-F1": f1("micro"), "macro-F1": f1("macro"), "weighted F1": f1("weighted"),
            "accuracy": float(accuracy_score(t, p)),
            "F1 of the most frequent class": float(f1_score(
                t, p, labels=[biggest], average=None, zero_division=0)[0])}


def scenario(k: int, quality: float, rows: int, device: str) -> tuple[torch.Tensor, torch.Tensor]:
    prior = 0.5 ** torch.arange(k, dtype=torch.float64)  # each class half the size of the last
    prior = prior / prior.sum()
    y_true = torch.multinomial(prior, rows, replacement=True)
    guess = torch.multinomial(prior.sqrt() / prior.sqrt().sum(), rows, replacement=True)
    right = torch.rand(rows) < quality
    return y_true.to(device), torch.where(right, y_true, guess).to(device)


def run(ctx):
    with one_thread(ctx.device):
        return measure_and_report(ctx)


def measure_and_report(ctx):
    cfg = {**SIZES[ctx.size], **ctx.params}
    cases, sklearn_gap = [], 0.0
    total = len(ctx.seeds) * len(CLASSES) * len(QUALITIES)
    for seed in ctx.seeds:
        seed_everything(seed)
        for k in CLASSES:
            for quality in QUALITIES:
                y_true, y_pred = scenario(k, quality, cfg["rows"], ctx.device)
                ours, theirs = metrics(y_true, y_pred, k), sklearn_metrics(y_true, y_pred, k)
                sklearn_gap = max(sklearn_gap, *(abs(ours[m] - theirs[m]) for m in ours))
                cases.append(ours)
                ctx.progress(len(cases), total, f"seed {seed}: {k} classes")
    if sklearn_gap > 1e-9:
        raise RuntimeError(f"torch and sklearn disagree by {sklearn_gap}")
    diffs = {letter: max(abs(c["micro-F1"] - c[name]) for c in cases)
             for letter, name in CANDIDATES.items()}
    return report(ctx, cfg, cases, diffs, sklearn_gap)


def report(ctx, cfg, cases, diffs: dict[str, float], sklearn_gap: float) -> dict:
    ctx.log(f"{len(cases)} cases ({len(ctx.seeds)} seeds x {len(CLASSES)} class counts x "
            f"{len(QUALITIES)} prediction qualities, {cfg['rows']} rows each). torch vs "
            f"sklearn.metrics (f1_score micro/macro/weighted, accuracy_score): largest "
            f"difference {sklearn_gap:.1e}.")
    ctx.log(f"Micro-F1 ranged {min(c['micro-F1'] for c in cases):.3f} to "
            f"{max(c['micro-F1'] for c in cases):.3f}. Largest |micro-F1 - candidate|:")
    for letter, name in CANDIDATES.items():
        equal = sum(abs(c["micro-F1"] - c[name]) <= EQUAL for c in cases)
        ctx.log(f"  {letter}. {name}: {diffs[letter]:.1e} (equal in {equal} of {len(cases)})")
    draw(ctx, cases)
    answer = decide(diffs)
    example = cases[len(QUALITIES)]  # 5 classes, the weakest predictions, first seed
    ctx.log(f"\nWhy: each row has exactly one true and one predicted class, so every mistake is "
            f"one FP (for the predicted class) and one FN (for the true class). Pooled over "
            f"classes, FP = FN = the number of wrong rows, so micro-precision = micro-recall = "
            f"correct / all rows = accuracy, and so is their harmonic mean. Macro and weighted "
            f"F1 average per-class F1 scores instead: in the 5-class, 30%-quality case micro-F1 "
            f"is {example['micro-F1']:.3f}, macro-F1 {example['macro-F1']:.3f}, weighted "
            f"{example['weighted F1']:.3f}.")
    return {"answer": answer, "metrics": {
        **{f"max_diff_{letter}": d for letter, d in diffs.items()},
        "cases": len(cases), "torch_vs_sklearn_max_diff": sklearn_gap,
        "seeds": len(ctx.seeds)}}


def decide(diffs: dict[str, float]) -> str:
    """The one candidate that equalled micro-F1 in every case."""
    equal = [letter for letter, d in diffs.items() if d <= EQUAL]
    if len(equal) != 1:
        raise ValueError(f"candidates always equal to micro-F1: {equal}")
    return equal[0]


def draw(ctx, cases) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=100)
    micro = [c["micro-F1"] for c in cases]
    for marker, name in zip("osv^", CANDIDATES.values(), strict=True):
        ax.scatter(micro, [c[name] for c in cases], marker=marker, label=name, alpha=0.7)
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1)
    ax.set(title="Each candidate against micro-F1 (one point per case)", xlabel="micro-F1",
           ylabel="candidate", xlim=(0, 1), ylim=(0, 1))
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize="small")
    fig.tight_layout()
    ctx.figure("micro-f1-vs-candidates", fig)
