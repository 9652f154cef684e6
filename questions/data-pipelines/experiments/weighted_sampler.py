"""Which WeightedRandomSampler gives batches about half minority class?

A dataset of 900 class-0 and 100 class-1 samples in shuffled order. Each choice builds a
sampler and draws one epoch (1000 indices, what DataLoader(ds, sampler=...) would fetch);
we count the share of class-1 samples and how many different samples were drawn.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

import torch
from torch.utils.data import WeightedRandomSampler

from bot.worker.lab.env import seed_everything

COUNTS = (900, 100)
N = sum(COUNTS)
TARGET, TOLERANCE = 0.5, 0.1  # "about half": within 10 points of 50%
MIN_COVERAGE = 0.9  # a useful sampler reaches at least 90% of the minority images


def make_labels() -> torch.Tensor:
    labels = torch.cat([torch.full((c,), k) for k, c in enumerate(COUNTS)])
    return labels[torch.randperm(N, generator=torch.Generator().manual_seed(0))]


# Each choice's sampler, exactly as the problem writes it (`labels`, `counts` as in the prompt).
SAMPLERS = {
    "A": "WeightedRandomSampler(weights=1 / counts, num_samples=1000)",
    "B": "WeightedRandomSampler(weights=counts[labels], num_samples=1000)",
    "C": "WeightedRandomSampler(weights=1 / counts[labels], num_samples=1000, replacement=True)",
    "D": "WeightedRandomSampler(weights=1 / counts[labels], num_samples=1000, replacement=False)",
}


def sampler_for(letter: str, labels: torch.Tensor) -> WeightedRandomSampler:
    counts = torch.bincount(labels)
    return eval(SAMPLERS[letter], {"WeightedRandomSampler": WeightedRandomSampler},
                {"labels": labels, "counts": counts})


LETTERS = ("A", "B", "C", "D")
LABELS = {
    "A": "weights=1 / counts: one weight per class",
    "B": "weights=counts[labels]: per sample, the size of its class",
    "C": "weights=1 / counts[labels], replacement=True",
    "D": "weights=1 / counts[labels], replacement=False",
}


@dataclass
class Draw:
    minority_share: float  # share of class-1 samples among the draws
    distinct: int  # different samples drawn
    minority_coverage: float  # share of the 100 class-1 samples drawn at least once
    few_ids: tuple[int, ...]  # the sample ids drawn, when there are only a few


def draw_epoch(letter: str, labels: torch.Tensor) -> Draw:
    index = torch.tensor(list(sampler_for(letter, labels)))
    drawn = labels[index]
    minority = set(index[drawn == 1].tolist())
    ids = set(index.tolist())
    return Draw(float((drawn == 1).float().mean()), len(ids), len(minority) / COUNTS[1],
                tuple(sorted(ids)) if len(ids) <= 5 else ())


def decide(share: dict[str, float], coverage: dict[str, float]) -> str:
    """Among samplers that reach the minority images, the one closest to a 50% share."""
    useful = {k: v for k, v in share.items() if coverage[k] >= MIN_COVERAGE}
    if not useful:
        raise RuntimeError("no sampler reached the minority images")
    best = min(useful, key=lambda k: abs(useful[k] - TARGET))
    if abs(useful[best] - TARGET) > TOLERANCE:
        raise RuntimeError(f"no sampler came within {TOLERANCE:.0%} of half: {useful}")
    return best


def run(ctx):
    labels = make_labels()
    draws: dict[str, list[Draw]] = {k: [] for k in LETTERS}
    for index, seed in enumerate(ctx.seeds):
        seed_everything(seed)  # the samplers draw from torch's global generator
        for letter in LETTERS:
            draws[letter].append(draw_epoch(letter, labels))
        ctx.progress(index + 1, len(ctx.seeds), f"seed {seed}")
    share = {k: statistics.fmean(d.minority_share for d in v) for k, v in draws.items()}
    coverage = {k: statistics.fmean(d.minority_coverage for d in v) for k, v in draws.items()}
    ctx.log(f"{COUNTS[0]} class-0 and {COUNTS[1]} class-1 samples; one epoch of {N} draws per "
            f"sampler, seeds {ctx.seeds}:")
    for letter in LETTERS:
        per_seed = ", ".join(f"{d.minority_share:.0%}" for d in draws[letter])
        distinct = ", ".join(str(d.distinct) for d in draws[letter])
        ctx.log(f"  {letter} {LABELS[letter]}\n     class-1 share {per_seed}; different "
                f"samples drawn {distinct}; class-1 images reached {coverage[letter]:.0%}")
    answer = decide(share, coverage)
    within = sum(abs(d.minority_share - TARGET) <= TOLERANCE for d in draws[answer])
    ctx.log(f"{answer} was within {TOLERANCE * 100:.0f} points of half in {within} of "
            f"{len(ctx.seeds)} seeds.")
    figure(ctx, draws)
    ctx.log("\nWhy: WeightedRandomSampler draws sample *indices* with probability proportional "
            "to weights[i], so it needs one weight per sample. With 1/900 on each of 900 "
            "class-0 samples and 1/100 on each of 100 class-1 samples, both classes carry the "
            f"same total weight, and C came out at {share['C']:.0%} class 1 (mean over seeds). "
            "A gives only two weights, so the sampler treats the dataset as two samples long: "
            f"it drew only samples {list(draws['A'][0].few_ids)}. B weights by class size and "
            f"makes the majority heavier still ({share['B']:.1%} class 1). Without "
            "replacement (D) every sample is drawn exactly once, so the weights only reorder "
            f"the epoch: {share['D']:.0%} class 1, "
            "the dataset's own ratio.")
    return {"answer": answer, "metrics": {
        **{f"share_{k}": round(v, 4) for k, v in share.items()},
        **{f"coverage_{k}": round(v, 4) for k, v in coverage.items()},
        "seeds_within": within, "seeds": len(ctx.seeds)}}


def figure(ctx, draws: dict[str, list[Draw]]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 3.6), dpi=100)
    for x, letter in enumerate(LETTERS):
        values = [d.minority_share for d in draws[letter]]
        ax.bar(x, statistics.fmean(values), color="#4c72b0")
        ax.scatter([x] * len(values), values, color="black", s=12, zorder=3)
    ax.axhline(0.5, color="grey", linestyle="--", linewidth=1, label="half")
    ax.axhline(COUNTS[1] / N, color="#dd8452", linestyle=":", linewidth=1,
               label="dataset's own share")
    ax.set_xticks(range(len(LETTERS)), LETTERS)
    ax.set(title="Share of class 1 in one sampled epoch (dots: seeds)", ylabel="class-1 share",
           ylim=(0, 1))
    ax.legend(fontsize="small")
    fig.tight_layout()
    ctx.figure("minority_share", fig)
