"""Reads the problem's confusion matrix: per-class precision and recall, then each claim.

The matrix is expanded into (true, predicted) label pairs, shuffled per seed; torch computes
the matrix back and the per-class scores from it, and sklearn.metrics
(confusion_matrix, precision_recall_fscore_support) cross-checks both.
"""

from __future__ import annotations

import torch

from bot.worker.lab.env import seed_everything

CLASSES = ("cat", "dog", "fox")
# Rows: true class; columns: predicted class (the problem's matrix).
MATRIX = ((50, 10, 0),
          (5, 30, 5),
          (25, 0, 25))


def expand(matrix: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """One (true, predicted) pair per counted example."""
    k = matrix.shape[0]
    cells = torch.arange(k * k).repeat_interleave(matrix.flatten())
    return cells // k, cells % k


def scores(y_true: torch.Tensor, y_pred: torch.Tensor, k: int):
    cm = torch.bincount(y_true * k + y_pred, minlength=k * k).reshape(k, k)
    tp = cm.diag().double()
    return cm, tp / cm.sum(0).double(), tp / cm.sum(1).double()


def claims(precision: dict[str, float], recall: dict[str, float]) -> dict[str, bool]:
    """Each choice's statement, as a test on the measured precision and recall."""
    best_p, best_r = max(precision, key=precision.get), max(recall, key=recall.get)
    worst_p, worst_r = min(precision, key=precision.get), min(recall, key=recall.get)
    return {
        "A": best_p == "cat" and best_r == "cat",   # cat: highest precision and recall
        "B": worst_r == "fox" and best_p == "fox",  # fox: lowest recall, highest precision
        "C": worst_r == "dog",                      # dog has the lowest recall
        "D": worst_p == "fox",                      # fox has the lowest precision
    }


def run(ctx):
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    matrix = torch.tensor(MATRIX)
    k = len(CLASSES)
    held = 0
    for index, seed in enumerate(ctx.seeds):
        seed_everything(seed)
        y_true, y_pred = expand(matrix)
        order = torch.randperm(len(y_true))
        y_true, y_pred = y_true[order].to(ctx.device), y_pred[order].to(ctx.device)
        cm, precision, recall = scores(y_true, y_pred, k)
        t, p = y_true.cpu().numpy(), y_pred.cpu().numpy()
        sk_p, sk_r, _, _ = precision_recall_fscore_support(t, p, labels=list(range(k)),
                                                           zero_division=0)
        held += (bool((confusion_matrix(t, p) == matrix.numpy()).all())
                 and bool((cm.cpu() == matrix).all())
                 and float((precision.cpu() - torch.from_numpy(sk_p)).abs().max()) < 1e-12
                 and float((recall.cpu() - torch.from_numpy(sk_r)).abs().max()) < 1e-12)
        ctx.progress(index + 1, len(ctx.seeds), f"seed {seed}")
    if held != len(ctx.seeds):
        raise RuntimeError("torch and sklearn disagree")
    prec = {c: float(v) for c, v in zip(CLASSES, precision.cpu(), strict=True)}
    rec = {c: float(v) for c, v in zip(CLASSES, recall.cpu(), strict=True)}
    truth = claims(prec, rec)
    ctx.log(f"The matrix expanded into {int(matrix.sum())} (true, predicted) pairs, shuffled "
            f"by seed; torch rebuilt the same matrix and sklearn.metrics.confusion_matrix / "
            f"precision_recall_fscore_support agreed in {held} of {len(ctx.seeds)} seeds.")
    for i, c in enumerate(CLASSES):
        ctx.log(f"  {c}: recall {int(matrix[i, i])}/{int(matrix[i].sum())} = {rec[c]:.3f} "
                f"(row), precision {int(matrix[i, i])}/{int(matrix[:, i].sum())} = "
                f"{prec[c]:.3f} (column)")
    ctx.log("Claims: " + ", ".join(f"{k}: {'true' if v else 'false'}" for k, v in truth.items()))
    answer = decide(truth)
    ctx.log(f"\nWhy: a row holds every example of one true class, so the diagonal over the row "
            f"sum is that class's recall; a column holds every prediction of one class, so the "
            f"diagonal over the column sum is its precision. Fox's row loses "
            f"{int(matrix[2, 0])} of its {int(matrix[2].sum())} examples to 'cat': fox "
            f"recall {rec['fox']:.2f}, the lowest; those {int(matrix[2, 0])} sit in the cat "
            f"column as cat's false positives, pulling cat precision down to "
            f"{prec['cat']:.3f}, while only "
            f"{int(matrix[:, 2].sum() - matrix[2, 2])} non-foxes were called 'fox' (fox "
            f"precision {prec['fox']:.3f}). Cat has the most correct predictions "
            f"({int(matrix[0, 0])}) and the highest recall, yet the lowest precision. Dog is "
            f"the only class confused with both others, but loses just "
            f"{int(matrix[1].sum() - matrix[1, 1])} of {int(matrix[1].sum())} (recall "
            f"{rec['dog']:.2f}): precision and recall are rates, not counts.")
    return {"answer": answer, "metrics": {
        **{f"precision_{c}": round(v, 4) for c, v in prec.items()},
        **{f"recall_{c}": round(v, 4) for c, v in rec.items()},
        "seeds_matching_sklearn": held, "seeds": len(ctx.seeds)}}


def decide(truth: dict[str, bool]) -> str:
    """The one choice whose statement holds for the measured precision and recall."""
    true = [letter for letter, holds in truth.items() if holds]
    if len(true) != 1:
        raise ValueError(f"statements that hold: {true}")
    return true[0]
