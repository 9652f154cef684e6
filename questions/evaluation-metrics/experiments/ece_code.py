"""Runs the problem's code (expected calibration error over two confidence bins).

It prints what the snippet prints and cross-checks it with an ECE rebuilt from
sklearn.calibration.calibration_curve (sklearn has no ECE function of its own: its per-bin
accuracy and mean confidence, weighted by the bin counts). Per seed, the same torch formula
is checked the same way on random confidences with 10 bins.
"""

from __future__ import annotations

import contextlib
import io

import numpy as np
import torch

from bot.worker.lab.env import seed_everything

# The problem's code, character for character (a test compares it with pack.yaml).
CODE = """\
import torch

conf = torch.tensor([0.95, 0.9, 0.9, 0.85, 0.8, 0.8, 0.6, 0.55])
correct = torch.tensor([1., 1., 0., 1., 0., 1., 1., 1.])
edges = torch.tensor([0.5, 0.75, 1.0])
ece = torch.tensor(0.0)
for lo, hi in zip(edges[:-1], edges[1:]):
    in_bin = (conf > lo) & (conf <= hi)
    if in_bin.any():
        gap = (conf[in_bin].mean() - correct[in_bin].mean()).abs()
        ece += in_bin.float().mean() * gap
print(f"{ece.item():.2f}")
"""
CHOICES = {"A": "0.26", "B": "0.04", "C": "0.31", "D": "0.38"}
SIZES = {"test": {"rows": 500}, "cpu": {"rows": 5000}, "full": {"rows": 50000}}


def run_code() -> tuple[str, dict]:
    out, scope = io.StringIO(), {"__name__": "__problem__"}
    with contextlib.redirect_stdout(out):
        exec(compile(CODE, "<problem>", "exec"), scope)  # noqa: S102 - our own fixed snippet
    return out.getvalue().strip(), scope


def ece_torch(conf: torch.Tensor, correct: torch.Tensor, edges: torch.Tensor) -> float:
    """The snippet's loop for any bin edges (bins are (lo, hi])."""
    conf, correct, edges = conf.double(), correct.double(), edges.double().to(conf.device)
    ece = 0.0
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        in_bin = (conf > lo) & (conf <= hi)
        if in_bin.any():
            gap = (conf[in_bin].mean() - correct[in_bin].mean()).abs()
            ece += float(in_bin.double().mean() * gap)
    return ece


def ece_sklearn(conf: np.ndarray, correct: np.ndarray, n_bins: int) -> float:
    """ECE from calibration_curve's per-bin accuracy and confidence (uniform bins on [0, 1])."""
    from sklearn.calibration import calibration_curve

    accuracy, confidence = calibration_curve(correct, conf, n_bins=n_bins, strategy="uniform")
    ids = np.searchsorted(np.linspace(0.0, 1.0, n_bins + 1)[1:-1], conf)  # its bin of each row
    counts = np.bincount(ids, minlength=n_bins)
    counts = counts[counts > 0]
    return float(np.sum(counts / len(conf) * np.abs(accuracy - confidence)))


def run(ctx):
    cfg = {**SIZES[ctx.size], **ctx.params}
    printed, scope = run_code()
    ctx.log("The snippet prints:\n" + printed)
    conf, correct = scope["conf"], scope["correct"]
    # calibration_curve with 4 uniform bins has edges 0, .25, .5, .75, 1: the snippet's two
    # bins (0.5, 0.75] and (0.75, 1] plus two empty ones.
    sk = ece_sklearn(conf.double().numpy(), correct.numpy(), n_bins=4)
    agree = abs(sk - scope["ece"].item()) < 1e-6
    ctx.log(f"ECE from sklearn.calibration.calibration_curve (4 uniform bins, two empty): "
            f"{sk:.4f} vs the snippet's {scope['ece'].item():.4f} "
            f"({'agrees' if agree else 'DISAGREES'})")
    held = 0
    edges10 = torch.linspace(0, 1, 11, dtype=torch.float64)
    for index, seed in enumerate(ctx.seeds):
        seed_everything(seed)
        c = 0.1 + 0.9 * torch.rand(cfg["rows"], dtype=torch.float64)
        hit = (torch.rand(cfg["rows"], dtype=torch.float64) < c ** 1.5).double()
        ours = ece_torch(c.to(ctx.device), hit.to(ctx.device), edges10)
        held += abs(ours - ece_sklearn(c.numpy(), hit.numpy(), n_bins=10)) < 1e-9
        ctx.progress(index + 1, len(ctx.seeds), f"seed {seed}")
    ctx.log(f"The same loop on {cfg['rows']} random confidences per seed (10 bins) matches "
            f"the sklearn-based ECE in {held} of {len(ctx.seeds)} seeds.")
    if not agree or held != len(ctx.seeds):
        raise RuntimeError("torch and sklearn-based ECE disagree")
    ctx.log("\n" + explain(conf, correct))
    answer = decide(printed)
    return {"answer": answer, "metrics": {
        "printed": printed, "ece": round(scope["ece"].item(), 5), "ece_sklearn": round(sk, 5),
        "seeds_matching_sklearn": held, "seeds": len(ctx.seeds)}}


def explain(conf: torch.Tensor, correct: torch.Tensor) -> str:
    """Per-bin numbers, and what each misreading of ECE would print."""
    signed_parts: list[tuple[float, float, float]] = []
    lines, gaps, weights = ["Why: ECE = sum over bins of (share of rows in bin) x "
                            "|mean confidence - accuracy| in that bin."], [], []
    for lo, hi in ((0.5, 0.75), (0.75, 1.0)):
        inside = (conf > lo) & (conf <= hi)
        w, c, a = inside.float().mean().item(), conf[inside].mean().item(), \
            correct[inside].mean().item()
        gaps.append(abs(c - a))
        signed_parts.append((w, c, a))
        weights.append(w)
        lines.append(f"  bin ({lo}, {hi}]: {int(inside.sum())} rows (share {w:.2f}), mean "
                     f"confidence {c:.3f}, accuracy {a:.3f}, gap {abs(c - a):.3f}")
    ece = sum(w * g for w, g in zip(weights, gaps, strict=True))
    lines.append(f"  ECE = {weights[0]:.2f} x {gaps[0]:.3f} + {weights[1]:.2f} x {gaps[1]:.3f} "
                 f"= {ece:.3f}")
    overall = abs(conf.mean().item() - correct.mean().item())
    signed = abs(sum(w * (c - a) for w, c, a in signed_parts))
    same = " (or no .abs(), so the bins' gaps partly cancel)" if abs(signed - overall) < 1e-6 \
        else ""
    lines.append(f"Misreadings: one overall |mean confidence - accuracy|{same} = {overall:.2f}; "
                 f"an unweighted mean of the bin gaps = "
                 f"{sum(gaps) / 2:.2f}; a per-row mean of |confidence - correct| = "
                 f"{(conf - correct).abs().mean().item():.2f}.")
    return "\n".join(lines)


def decide(printed: str, choices: dict[str, str] = CHOICES) -> str:
    """The choice whose text is exactly what the snippet printed."""
    for letter, text in choices.items():
        if text == printed.strip():
            return letter
    raise ValueError(f"printed {printed!r}, which matches no choice")
