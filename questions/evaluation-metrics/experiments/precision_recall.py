"""Runs the problem's code (precision and recall of class 1 from a torch confusion matrix).

It prints what the snippet prints, cross-checks both numbers against sklearn.metrics, and, per
seed, checks the same confusion-matrix formulas against sklearn on random labels.
"""

from __future__ import annotations

import contextlib
import io

import torch

from bot.worker.lab.env import seed_everything

# The problem's code, character for character (a test compares it with pack.yaml).
CODE = """\
import torch

y_true = torch.tensor([1, 1, 1, 1, 0, 0, 0, 0, 0, 0])
y_pred = torch.tensor([1, 1, 1, 0, 1, 1, 0, 0, 0, 0])
cm = torch.zeros(2, 2, dtype=torch.long)
for t, p in zip(y_true, y_pred):
    cm[t, p] += 1
tp = cm[1, 1].item()
precision = tp / cm[:, 1].sum().item()
recall = tp / cm[1, :].sum().item()
print(f"{precision:.2f} {recall:.2f}")
"""
CHOICES = {"A": "0.75 0.60", "B": "0.80 0.67", "C": "0.70 0.70", "D": "0.60 0.75"}
SIZES = {"test": {"random_rows": 200}, "cpu": {"random_rows": 2000},
         "full": {"random_rows": 20000}}


def run_code() -> tuple[str, dict]:
    """Executes CODE and returns what it printed and its variables."""
    out, scope = io.StringIO(), {"__name__": "__problem__"}
    with contextlib.redirect_stdout(out):
        exec(compile(CODE, "<problem>", "exec"), scope)  # noqa: S102 - our own fixed snippet
    return out.getvalue().strip(), scope


def precision_recall(y_true: torch.Tensor, y_pred: torch.Tensor) -> tuple[float, float]:
    """The snippet's formulas, vectorised: rows of cm are true classes, columns predictions."""
    cm = torch.bincount(y_true * 2 + y_pred, minlength=4).reshape(2, 2)
    tp = cm[1, 1].item()
    return tp / max(1, cm[:, 1].sum().item()), tp / max(1, cm[1, :].sum().item())


def run(ctx):
    from sklearn.metrics import confusion_matrix, precision_score, recall_score

    cfg = {**SIZES[ctx.size], **ctx.params}
    printed, scope = run_code()
    ctx.log("The snippet prints:\n" + printed)
    cm = scope["cm"]
    t, p = scope["y_true"].numpy(), scope["y_pred"].numpy()
    sk_cm = confusion_matrix(t, p)
    sk = (precision_score(t, p), recall_score(t, p))
    agree = bool((sk_cm == cm.numpy()).all()) and all(
        abs(a - b) < 1e-12 for a, b in zip(sk, (scope["precision"], scope["recall"]), strict=True))
    ctx.log(f"sklearn.metrics on the same labels: confusion_matrix {sk_cm.tolist()}, "
            f"precision_score {sk[0]:.2f}, recall_score {sk[1]:.2f} "
            f"({'agrees' if agree else 'DISAGREES'})")
    held = 0
    for index, seed in enumerate(ctx.seeds):
        seed_everything(seed)
        n = cfg["random_rows"]
        y_true = (torch.rand(n) < 0.3).long().to(ctx.device)
        y_pred = torch.where(torch.rand(n) < 0.8, y_true.cpu(), 1 - y_true.cpu()).to(ctx.device)
        ours = precision_recall(y_true, y_pred)
        yt, yp = y_true.cpu().numpy(), y_pred.cpu().numpy()
        held += all(abs(a - b) < 1e-12 for a, b in zip(
            ours, (precision_score(yt, yp), recall_score(yt, yp)), strict=True))
        ctx.progress(index + 1, len(ctx.seeds), f"seed {seed}")
    ctx.log(f"The same formulas on {cfg['random_rows']} random labels per seed match "
            f"sklearn in {held} of {len(ctx.seeds)} seeds.")
    if not agree or held != len(ctx.seeds):
        raise RuntimeError("torch and sklearn disagree")
    tp, fp, fn = int(cm[1, 1]), int(cm[0, 1]), int(cm[1, 0])
    answer = decide(printed)
    ctx.log(f"\nWhy: cm[t, p] counts rows with true class t predicted as p, so row 1 holds the "
            f"real positives and column 1 the predicted positives. cm = {cm.tolist()}: "
            f"TP = cm[1, 1] = {tp}, FP = cm[0, 1] = {fp}, FN = cm[1, 0] = {fn}. Precision = "
            f"TP / column 1 = {tp}/{tp + fp} = {tp / (tp + fp):.2f} (of the predicted "
            f"positives, how many are real); recall = TP / row 1 = {tp}/{tp + fn} = "
            f"{tp / (tp + fn):.2f} (of the real positives, how many were found).")
    tn = int(cm[0, 0])
    ctx.log(f"Reading rows as predictions instead would print {tp / (tp + fn):.2f} "
            f"{tp / (tp + fp):.2f}; class 0's precision and recall are {tn / (tn + fn):.2f} "
            f"{tn / (tn + fp):.2f}; accuracy is {(tp + tn) / int(cm.sum()):.2f}.")
    return {"answer": answer, "metrics": {
        "printed": printed, "precision": round(scope["precision"], 4),
        "recall": round(scope["recall"], 4), "tp": tp, "fp": fp, "fn": fn,
        "sklearn_agrees": int(agree), "seeds_matching_sklearn": held,
        "seeds": len(ctx.seeds)}}


def decide(printed: str, choices: dict[str, str] = CHOICES) -> str:
    """The choice whose text is exactly what the snippet printed."""
    for letter, text in choices.items():
        if text == printed.strip():
            return letter
    raise ValueError(f"printed {printed!r}, which matches no choice")
