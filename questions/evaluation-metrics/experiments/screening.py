"""Deploy the always-"negative" model or a class-weighted logistic regression? (5% positives)

Two overlapping Gaussian classes in 8 dimensions, 5% positives. M0 predicts "negative" for
every row. M1 is a logistic regression trained with BCEWithLogitsLoss(pos_weight = negatives /
positives), so the positives weigh as much in total as the negatives. Both are scored on the
same test rows; metrics computed in torch and cross-checked with sklearn.metrics.
"""

from __future__ import annotations

import statistics

import torch
import torch.nn.functional as F
from torch import nn

from bot.worker.lab.env import one_thread, seed_everything

SIZES = {
    "test": {"train": 4000, "test": 4000, "steps": 150},
    "cpu": {"train": 8000, "test": 10000, "steps": 300},
    "full": {"train": 40000, "test": 40000, "steps": 500},
}
POSITIVE_RATE = 0.05
DIMS, SEPARATION = 8, 2.5
MARGIN = 0.05  # macro-F1 differences smaller than this do not separate the models
MODELS = ("M0 always negative", "M1 weighted LR")


def make_data(n: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    y = (torch.rand(n, generator=gen) < POSITIVE_RATE).float()
    x = torch.randn(n, DIMS, generator=gen)
    x[:, 0] += SEPARATION * y
    return x, y


def train_lr(x: torch.Tensor, y: torch.Tensor, steps: int, pos_weight: float) -> nn.Module:
    model = nn.Linear(DIMS, 1).to(x.device)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    weight = torch.tensor(pos_weight, device=x.device)
    for _ in range(steps):
        loss = F.binary_cross_entropy_with_logits(model(x).squeeze(1), y, pos_weight=weight)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return model


def scores(y: torch.Tensor, pred: torch.Tensor) -> dict[str, float]:
    """Accuracy, macro-F1 and the positive class's precision and recall (0/0 -> 0)."""
    y, pred = y.long(), pred.long()
    cm = torch.bincount(y * 2 + pred, minlength=4).reshape(2, 2).double()
    tp = cm.diag()
    precision = torch.where(cm.sum(0) > 0, tp / cm.sum(0).clamp(min=1), 0.0)
    recall = torch.where(cm.sum(1) > 0, tp / cm.sum(1).clamp(min=1), 0.0)
    f1 = torch.where(tp > 0, 2 * precision * recall / (precision + recall).clamp(min=1e-12), 0.0)
    return {"accuracy": float(tp.sum() / cm.sum()), "macro_f1": float(f1.mean()),
            "precision": float(precision[1]), "recall": float(recall[1])}


def sklearn_scores(y: torch.Tensor, pred: torch.Tensor) -> dict[str, float]:
    from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score

    t, p = y.long().cpu().numpy(), pred.long().cpu().numpy()
    return {"accuracy": accuracy_score(t, p),
            "macro_f1": f1_score(t, p, average="macro", zero_division=0),
            "precision": precision_score(t, p, zero_division=0),
            "recall": recall_score(t, p, zero_division=0)}


def run(ctx):
    with one_thread(ctx.device):
        return measure_and_report(ctx)


def measure_and_report(ctx):
    cfg = {**SIZES[ctx.size], **ctx.params}
    results = {m: [] for m in MODELS}
    gap = 0.0
    for index, seed in enumerate(ctx.seeds):
        seed_everything(seed)
        gen = torch.Generator().manual_seed(seed)
        (xtr, ytr), (xte, yte) = [(x.to(ctx.device), y.to(ctx.device)) for x, y in
                                  (make_data(cfg["train"], gen), make_data(cfg["test"], gen))]
        ratio = float((ytr == 0).sum() / (ytr == 1).sum())
        model = train_lr(xtr, ytr, cfg["steps"], ratio)
        with torch.no_grad():
            preds = {MODELS[0]: torch.zeros_like(yte),
                     MODELS[1]: (model(xte).squeeze(1) > 0).float()}
        for name, pred in preds.items():
            ours, theirs = scores(yte, pred), sklearn_scores(yte, pred)
            gap = max(gap, *(abs(ours[k] - theirs[k]) for k in ours))
            results[name].append(ours)
        ctx.progress(index + 1, len(ctx.seeds), f"seed {seed}")
    if gap > 1e-9:
        raise RuntimeError(f"torch and sklearn disagree by {gap}")
    return report(ctx, cfg, results, gap)


def report(ctx, cfg, results, gap: float) -> dict:
    med = statistics.median
    m = {name: {k: med(r[k] for r in runs) for k in runs[0]} for name, runs in results.items()}
    ctx.log(f"{cfg['test']} test rows per seed, {POSITIVE_RATE:.0%} positives, {len(ctx.seeds)} "
            f"seeds (medians shown). torch vs sklearn.metrics (accuracy_score, f1_score "
            f"macro, precision_score, recall_score): largest difference {gap:.0e}.")
    for name, s in m.items():
        ctx.log(f"  {name}: accuracy {s['accuracy']:.3f}, macro-F1 {s['macro_f1']:.3f}, "
                f"positive recall {s['recall']:.2f}, positive precision {s['precision']:.2f}")
    m0, m1 = results[MODELS[0]], results[MODELS[1]]
    lower_acc = sum(b["accuracy"] < a["accuracy"] for a, b in zip(m0, m1, strict=True))
    higher_f1 = sum(b["macro_f1"] > a["macro_f1"] + MARGIN for a, b in zip(m0, m1, strict=True))
    ctx.log(f"M1 has lower accuracy than M0 in {lower_acc} of {len(m0)} seeds, and macro-F1 "
            f"at least {MARGIN} higher in {higher_f1}.")
    a, b = m[MODELS[0]], m[MODELS[1]]
    answer = decide(a["macro_f1"], b["macro_f1"], b["recall"])
    ctx.log("\n" + EXPLAIN[answer].format(a=a, b=b))
    return {"answer": answer, "metrics": {
        "m0_accuracy": round(a["accuracy"], 4), "m1_accuracy": round(b["accuracy"], 4),
        "m0_macro_f1": round(a["macro_f1"], 4), "m1_macro_f1": round(b["macro_f1"], 4),
        "m1_recall": round(b["recall"], 4), "m1_precision": round(b["precision"], 4),
        "seeds_m1_lower_accuracy": lower_acc, "seeds_m1_higher_macro_f1": higher_f1,
        "sklearn_max_diff": gap, "seeds": len(m0)}}


def decide(m0_macro_f1: float, m1_macro_f1: float, m1_recall: float) -> str:
    """Which model the class-balanced evidence favours (medians over seeds)."""
    if m1_macro_f1 > m0_macro_f1 + MARGIN and m1_recall >= 0.5:
        return "D"
    if m1_macro_f1 < m0_macro_f1 - MARGIN:
        return "A"  # M1 loses even on the metric that weighs both classes: keep M0
    return "C"


EXPLAIN = {
    "D": ("Why: M0's accuracy ({a[accuracy]:.3f}) is just the share of negatives; it finds "
          "no positive at all (recall {a[recall]:.2f}), so its macro-F1 is {a[macro_f1]:.3f}. "
          "M1 gives up accuracy ({b[accuracy]:.3f}) because it flags some negatives, but "
          "finds {b[recall]:.0%} of the positives; macro-F1, which weighs both classes "
          "equally, rises to {b[macro_f1]:.3f}. Its positive precision ({b[precision]:.2f}) "
          "is modest, yet M0 has no true positives at all. When missed positives are costly "
          "M1 is the one to deploy; its threshold can then be tuned for the precision/recall "
          "trade-off you need."),
    "A": "Why: M1 scored lower than M0 even on macro-F1 in this run.",
    "C": "Why: M1's macro-F1 was within " + str(MARGIN) + " of M0's in this run.",
}
