"""Learning-curve figures with the Agg backend (no display in a worker)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

Series = dict[str, list[tuple[list[int], list[float]]]]


def curves(title: str, series: Series, *, xlabel: str = "training step",
           ylabel: str = "validation accuracy", target: float | None = None) -> Figure:
    """One line per seed for each labelled series; seeds share a colour."""
    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=100)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for index, (label, runs) in enumerate(series.items()):
        colour = colours[index % len(colours)]
        for run, (xs, ys) in enumerate(runs):
            ax.plot(xs, ys, color=colour, alpha=0.85, linewidth=1.5,
                    label=label if run == 0 else None)
    if target is not None:
        ax.axhline(target, color="grey", linestyle="--", linewidth=1, label=f"target {target:.0%}")
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel, ylim=(0, 1.02))
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize="small")
    fig.tight_layout()
    return fig


def bars(title: str, values: dict[str, float], *, ylabel: str) -> Figure:
    fig, ax = plt.subplots(figsize=(6.4, 3.6), dpi=100)
    ax.bar(list(values), list(values.values()), color="#4c72b0")
    ax.set(title=title, ylabel=ylabel)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig
