"""Runs the problem's code (top-1 and top-2 accuracy from logits with torch.topk).

It prints what the snippet prints, cross-checks both numbers with
sklearn.metrics.top_k_accuracy_score, and, per seed, checks the same torch formula against
sklearn on random logits for k = 1, 2, 3.
"""

from __future__ import annotations

import contextlib
import io

import torch

from bot.worker.lab.env import seed_everything

# The problem's code, character for character (a test compares it with pack.yaml).
CODE = """\
import torch

logits = torch.tensor([[0.1, 2.0, 0.3, 1.5],
                       [1.2, 0.2, 0.9, 0.1],
                       [0.3, 0.4, 0.2, 2.2],
                       [2.5, 0.1, 1.9, 0.3],
                       [0.2, 1.1, 1.3, 0.4]])
target = torch.tensor([3, 2, 3, 1, 1])
top2 = logits.topk(2, dim=1).indices
top1_acc = (top2[:, 0] == target).float().mean().item()
top2_acc = (top2 == target[:, None]).any(dim=1).float().mean().item()
print(f"{top1_acc:.1f} {top2_acc:.1f}")
"""
CHOICES = {"A": "0.2 0.6", "B": "0.2 0.4", "C": "0.2 0.8", "D": "0.2 0.0"}
SIZES = {"test": {"rows": 300, "classes": 10}, "cpu": {"rows": 3000, "classes": 10},
         "full": {"rows": 30000, "classes": 100}}


def run_code() -> tuple[str, dict]:
    out, scope = io.StringIO(), {"__name__": "__problem__"}
    with contextlib.redirect_stdout(out):
        exec(compile(CODE, "<problem>", "exec"), scope)  # noqa: S102 - our own fixed snippet
    return out.getvalue().strip(), scope


def topk_accuracy(logits: torch.Tensor, target: torch.Tensor, k: int) -> float:
    """The snippet's formula for any k: is the target among the k highest logits?"""
    top = logits.topk(k, dim=1).indices
    return (top == target[:, None]).any(dim=1).float().mean().item()


def run(ctx):
    from sklearn.metrics import top_k_accuracy_score

    cfg = {**SIZES[ctx.size], **ctx.params}
    printed, scope = run_code()
    ctx.log("The snippet prints:\n" + printed)
    logits, target, top2 = scope["logits"], scope["target"], scope["top2"]
    labels = list(range(logits.shape[1]))
    sk = [top_k_accuracy_score(target.numpy(), logits.numpy(), k=k, labels=labels)
          for k in (1, 2)]
    agree = all(abs(a - b) < 1e-6 for a, b in zip(
        sk, (scope["top1_acc"], scope["top2_acc"]), strict=True))
    ctx.log(f"sklearn.metrics.top_k_accuracy_score on the same logits: k=1 {sk[0]:.1f}, "
            f"k=2 {sk[1]:.1f} ({'agrees' if agree else 'DISAGREES'})")
    held = 0
    for index, seed in enumerate(ctx.seeds):
        seed_everything(seed)
        rows, classes = cfg["rows"], cfg["classes"]
        y = torch.randint(classes, (rows,))
        z = torch.randn(rows, classes) + 1.5 * torch.nn.functional.one_hot(y, classes)
        ours = [topk_accuracy(z.to(ctx.device), y.to(ctx.device), k) for k in (1, 2, 3)]
        theirs = [top_k_accuracy_score(y.numpy(), z.numpy(), k=k, labels=list(range(classes)))
                  for k in (1, 2, 3)]
        held += all(abs(a - b) < 1e-6 for a, b in zip(ours, theirs, strict=True))
        ctx.progress(index + 1, len(ctx.seeds), f"seed {seed}")
    ctx.log(f"The same torch formula on {cfg['rows']} random {cfg['classes']}-class rows per "
            f"seed matches sklearn for k = 1, 2, 3 in {held} of {len(ctx.seeds)} seeds.")
    if not agree or held != len(ctx.seeds):
        raise RuntimeError("torch and sklearn disagree")
    hits = (top2 == target[:, None])
    rows = [f"row {i}: guesses {top2[i].tolist()}, target {int(target[i])}"
            for i in range(len(target))]
    second_only = hits[:, 1].float().mean().item()
    pairs = hits.float().mean().item()
    both = hits.all(dim=1).float().mean().item()
    answer = decide(printed)
    ctx.log("\n" + "\n".join(rows))
    ctx.log(f"\nWhy: topk returns each row's 2 highest-scoring classes, best first. Top-1 "
            f"counts rows whose best guess is the target ({int(hits[:, 0].sum())} of "
            f"{len(target)}); top-2 counts rows whose target is either guess "
            f"({int(hits.any(1).sum())} of {len(target)}), so it can only be >= top-1. "
            f"Counting the second guess alone gives {second_only:.1f}; averaging over all "
            f"{hits.numel()} (row, guess) pairs without .any(dim=1) gives {pairs:.1f}; "
            f"asking both guesses to be the one target (.all) gives {both:.1f}.")
    return {"answer": answer, "metrics": {
        "printed": printed, "top1_acc": round(scope["top1_acc"], 4),
        "top2_acc": round(scope["top2_acc"], 4), "sklearn_agrees": int(agree),
        "seeds_matching_sklearn": held, "seeds": len(ctx.seeds)}}


def decide(printed: str, choices: dict[str, str] = CHOICES) -> str:
    """The choice whose text is exactly what the snippet printed."""
    for letter, text in choices.items():
        if text == printed.strip():
            return letter
    raise ValueError(f"printed {printed!r}, which matches no choice")
