"""Measures which input pixels feed one output pixel of three stacked 3x3 convs with
dilation 2: back-propagate from the output pixel and map the non-zero gradients.

Every seed draws new random weights. Then the same stack with dilations 1, 2, 3 (the
"hybrid" fix) for comparison.
"""

from __future__ import annotations

import torch
from torch import nn

from bot.worker.lab.env import seed_everything

SIZE, CENTRE = 32, 16


def hit_map(dilations: tuple[int, ...]) -> torch.Tensor:
    """Boolean map of input pixels with a non-zero gradient from the centre output pixel."""
    net = nn.Sequential(*[nn.Conv2d(1, 1, 3, padding=d, dilation=d) for d in dilations])
    x = torch.randn(1, 1, SIZE, SIZE, requires_grad=True)
    net(x)[0, 0, CENTRE, CENTRE].backward()
    return x.grad[0, 0] != 0


def summary(hit: torch.Tensor) -> tuple[int, int]:
    """(span of the bounding box in columns, number of pixels hit)."""
    cols = hit.any(dim=0).nonzero()
    return int(cols.max() - cols.min() + 1), int(hit.sum())


def decide(span: int, count: int) -> str:
    """Reads the pattern off the measured span and pixel count."""
    if span == 7 and count == 49:
        return "A"  # a solid 7x7 block: dilation changed nothing
    if span == 13 and count == 49:
        return "B"  # 13 wide, but only every other row and column
    if span == 13 and count == 169:
        return "C"  # a solid 13x13 block
    if span == 13 and count == 9:
        return "D"  # a sparse 3x3 grid
    raise RuntimeError(f"span {span}, {count} pixels: matches no choice")


def ascii_map(hit: torch.Tensor, half: int = 6) -> str:
    rows = hit[CENTRE - half:CENTRE + half + 1, CENTRE - half:CENTRE + half + 1]
    return "\n".join("  " + " ".join("#" if v else "." for v in row) for row in rows.tolist())


def figure(grid: torch.Tensor, hybrid: torch.Tensor):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(6.4, 3.4), dpi=100)
    window = slice(CENTRE - 8, CENTRE + 9)
    for ax, hit, title in ((axes[0], grid, "dilation 2, 2, 2"),
                           (axes[1], hybrid, "dilation 1, 2, 3")):
        ax.imshow(hit[window, window].float(), cmap="Blues", vmin=0, vmax=1.3)
        ax.set(title=f"{title}: {int(hit.sum())} input pixels", xticks=[], yticks=[])
    fig.suptitle("Input pixels with a non-zero gradient from the centre output pixel")
    fig.tight_layout()
    return fig


def run(ctx):
    results, hit = [], None
    for index, seed in enumerate(ctx.seeds):
        seed_everything(seed)
        hit = hit_map((2, 2, 2))
        results.append(summary(hit))
        ctx.progress(index + 1, len(ctx.seeds), f"seed {seed}")
    assert hit is not None
    if len(set(results)) != 1:
        raise RuntimeError(f"the pattern differs per seed: {results}")
    span, count = results[0]
    seed_everything(ctx.seeds[0])
    hybrid = hit_map((1, 2, 3))
    h_span, h_count = summary(hybrid)
    ctx.figure("dilation-gridding", figure(hit, hybrid))
    ctx.log(f"Three 3x3 convs, dilation 2 (padding 2), {SIZE}x{SIZE} input, gradient of the "
            f"centre output pixel. Seeds {ctx.seeds}: span {span} columns, {count} input "
            f"pixels non-zero in every seed.")
    ctx.log("Non-zero gradients around the centre (# = non-zero):")
    ctx.log(ascii_map(hit))
    ctx.log(f"Dilations 1, 2, 3 instead: span {h_span}, {h_count} pixels of "
            f"{h_span * h_span}.")
    ctx.log(f"\nWhy: each dilated layer looks at offsets -2, 0 and +2, so three of them "
            f"reach offsets -6..6: a span of {span}. But every offset is a sum of even steps, "
            f"so odd offsets are never reached: {count} of {span * span} pixels, a grid "
            f"(\"gridding\"). Mixing dilations whose steps do not share a factor, like 1, 2, 3, "
            f"covers the same span with {h_count} pixels.")
    answer = decide(span, count)
    return {"answer": answer, "metrics": {
        "span": span, "pixels": count, "hybrid_span": h_span, "hybrid_pixels": h_count,
        "seeds": len(ctx.seeds)}}
