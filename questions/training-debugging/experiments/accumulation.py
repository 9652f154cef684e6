"""Gradient accumulation: which loss divisor k makes 4 micro-batches of 8 equal one batch of 32.

For each seed, one batch of 32 digits (sklearn) and an MLP without batch norm: the gradient
of the batch's mean loss is the reference. Then the same 32 examples as 4 micro-batches of 8,
each calling (loss / k).backward() into the same .grad, for every k among the choices.
Measured: relative difference to the reference, and the ratio of gradient norms. Then the
same test on an MLP with batch norm, and what a wrong k does to one SGD and one Adam step.
"""

from __future__ import annotations

import functools
import importlib.util
import statistics
from pathlib import Path

import numpy as np
import torch
from torch import nn

from bot.worker.lab.env import seed_everything

MICRO, STEPS = 8, 4  # 4 micro-batches of 8 = one batch of 32
DIVISORS = {"A": 1, "B": 32, "C": 4, "D": 8}  # the choices' k
TOL = 1e-4


@functools.cache
def load_digits_tensors() -> tuple[torch.Tensor, torch.Tensor]:
    """scikit-learn's 8x8 digits: 1797 images of 64 pixels valued 0-16, and labels 0-9.

    Read from the CSV file scikit-learn ships, as its load_digits does, but without importing
    scikit-learn, whose import alone takes seconds; load_digits if the file is not there.
    """
    spec = importlib.util.find_spec("sklearn")
    folder = spec.submodule_search_locations if spec is not None else None
    path = Path(next(iter(folder))) / "datasets" / "data" / "digits.csv.gz" if folder else None
    if path is not None and path.is_file():
        table = np.loadtxt(path, delimiter=",", dtype=np.float32)
        pixels, labels = table[:, :-1], table[:, -1]
    else:
        from sklearn.datasets import load_digits

        data = load_digits()
        pixels, labels = data.data, data.target
    return (torch.tensor(pixels, dtype=torch.float32), torch.tensor(labels, dtype=torch.long))


def model(seed: int, batch_norm: bool, device: str) -> nn.Module:
    seed_everything(seed)
    norm = [nn.BatchNorm1d(64)] if batch_norm else []
    return nn.Sequential(nn.Linear(64, 64), *norm, nn.ReLU(), nn.Linear(64, 10)).to(device)


def batch(seed: int, device: str) -> tuple[torch.Tensor, torch.Tensor]:
    pixels, labels = load_digits_tensors()
    pick = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))
    pick = pick[:MICRO * STEPS]
    return (pixels[pick] / 16.0).to(device), labels[pick].to(device)


def flat_grad(net: nn.Module) -> torch.Tensor:
    return torch.cat([p.grad.flatten() for p in net.parameters()])


def full_gradient(net: nn.Module, x, y) -> torch.Tensor:
    net.zero_grad(set_to_none=True)
    nn.functional.cross_entropy(net(x), y).backward()
    return flat_grad(net)


def accumulated(net: nn.Module, x, y, k: float) -> torch.Tensor:
    net.zero_grad(set_to_none=True)
    for i in range(STEPS):
        part = slice(i * MICRO, (i + 1) * MICRO)
        loss = nn.functional.cross_entropy(net(x[part]), y[part])  # mean over 8
        (loss / k).backward()  # adds into .grad
    return flat_grad(net)


def rel_diff(g: torch.Tensor, ref: torch.Tensor) -> float:
    return float((g - ref).norm() / ref.norm())


def one_step_change(seed: int, x, y, k: float, opt: str, device: str) -> torch.Tensor:
    """The parameter change from one optimizer step on the accumulated gradient."""
    net = model(seed, False, device)
    before = torch.cat([p.detach().flatten() for p in net.parameters()])
    optimizer = (torch.optim.SGD(net.parameters(), lr=0.1) if opt == "SGD"
                 else torch.optim.Adam(net.parameters(), lr=1e-3))
    accumulated(net, x, y, k)
    optimizer.step()
    return torch.cat([p.detach().flatten() for p in net.parameters()]) - before


def decide(diffs: dict[str, float], tol: float = TOL) -> str:
    """The one divisor whose accumulated gradient equals the big batch's."""
    matches = [letter for letter, d in diffs.items() if d < tol]
    if len(matches) != 1:
        raise ValueError(f"{len(matches)} divisors match the big-batch gradient: {diffs}")
    return matches[0]


def run(ctx):
    diffs = {letter: [] for letter in DIVISORS}
    ratios = {letter: [] for letter in DIVISORS}
    bn_diffs, sgd, adam = [], [], []
    for index, seed in enumerate(ctx.seeds):
        x, y = batch(seed, ctx.device)
        net = model(seed, False, ctx.device)
        ref = full_gradient(net, x, y)
        for letter, k in DIVISORS.items():
            g = accumulated(net, x, y, k)
            diffs[letter].append(rel_diff(g, ref))
            ratios[letter].append(float(g.norm() / ref.norm()))
        bn = model(seed, True, ctx.device)
        bn_diffs.append(rel_diff(accumulated(bn, x, y, 4), full_gradient(bn, x, y)))
        for opt, out in (("SGD", sgd), ("Adam", adam)):
            right, wrong = (one_step_change(seed, x, y, k, opt, ctx.device) for k in (4, 1))
            out.append(float(wrong.norm() / right.norm()))
        ctx.progress(index + 1, len(ctx.seeds), f"seed {seed}")
    worst = {letter: max(v) for letter, v in diffs.items()}
    ctx.log(f"4 micro-batches of 8 vs one batch of 32 (digits, MLP without batch norm, seeds "
            f"{ctx.seeds}); each micro-batch calls (loss / k).backward():")
    for letter, k in DIVISORS.items():
        ctx.log(f"  k = {k:<2} ({letter}): relative difference to the big batch's gradient "
                f"{worst[letter]:.1e} (worst seed), norm ratio "
                f"{statistics.median(ratios[letter]):.3f}")
    answer = decide(worst)
    k = DIVISORS[answer]
    ctx.log(f"With batch norm, k = 4: relative difference {statistics.median(bn_diffs):.2f} "
            f"(median): each micro-batch is normalised with its own 8-example statistics.")
    ctx.log(f"One step with k = 1 instead of 4 moves the weights {statistics.median(sgd):.2f}x "
            f"as far with SGD, {statistics.median(adam):.2f}x with Adam.")
    ctx.figure("accumulation-divisors", figure(ratios))
    if answer == "C":
        ctx.log(f"\nWhy: CrossEntropyLoss averages over its 8 examples, and backward() adds "
                f"into .grad. Summing {STEPS} micro-batch means gives {STEPS}x the mean over "
                f"32, so dividing each loss by the number of micro-batches, k = {k}, gives the "
                f"big batch's gradient up to float rounding (difference at most "
                f"{worst[answer]:.0e} over the seeds). k = 1 is "
                f"{statistics.median(ratios['A']):.0f}x too large, k = 32 and k = 8 too small "
                f"({statistics.median(ratios['B']):.3g}x and "
                f"{statistics.median(ratios['D']):.3g}x). With SGD a wrong k acts as a wrong "
                "learning rate; Adam divides by the gradient's running size, so it nearly "
                "cancels a constant factor (measured above). Batch norm breaks the "
                "equivalence, because its statistics come from each micro-batch.")
    return {"answer": answer, "metrics": {
        **{f"diff_k{k}": worst[letter] for letter, k in DIVISORS.items()},
        "batchnorm_diff_k4": round(statistics.median(bn_diffs), 4),
        "sgd_step_ratio_k1": round(statistics.median(sgd), 3),
        "adam_step_ratio_k1": round(statistics.median(adam), 3), "seeds": len(ctx.seeds)}}


def figure(ratios):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [f"k = {k}" for k in DIVISORS.values()]
    values = [statistics.median(ratios[letter]) for letter in DIVISORS]
    fig, ax = plt.subplots(figsize=(6.4, 3.6), dpi=100)
    ax.bar(labels, values, color="#4c72b0")
    ax.axhline(1.0, color="grey", linestyle="--", linewidth=1, label="one batch of 32")
    for i, v in enumerate(values):
        ax.text(i, v, f"{v:.3g}x", ha="center", va="bottom")
    ax.set(title="Accumulated gradient norm / big-batch gradient norm", ylabel="ratio")
    ax.legend(fontsize="small")
    fig.tight_layout()
    return fig
