"""Runs the problem's code and prints what it prints: the range after ToDtype and Normalize.

The snippet is executed exactly as shown in the problem (the test checks the two texts are
identical), once per seed, and its output is matched to the choice with the same text. Then
the same pipeline with `scale=True`, to show what the missing argument changes.
"""

from __future__ import annotations

import contextlib
import inspect
import io

import numpy as np
import torch
from torchvision.transforms import v2

from bot.worker.lab.env import seed_everything

CODE = """\
import numpy as np
import torch
from torchvision.transforms import v2

pixels = np.array([[[0], [128], [255]]], dtype=np.uint8)  # H x W x C, like a decoded photo
transform = v2.Compose([
    v2.ToImage(),
    v2.ToDtype(torch.float32),
    v2.Normalize(mean=[0.5], std=[0.5]),
])
out = transform(pixels)
print(out.min().item(), out.max().item())
"""

# The problem's choices; the derived answer is the letter whose text the code printed.
CHOICES = {"A": "-1.0 1.0", "B": "0.0 1.0", "C": "-1.0 509.0", "D": "-0.5 254.5"}


def run_snippet(code: str) -> str:
    """Executes `code` in a fresh namespace and returns what it printed."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        exec(compile(code, "<problem code>", "exec"), {"__name__": "__problem__"})
    return buffer.getvalue().strip()


def decide(printed: list[str], choices: dict[str, str] = CHOICES) -> str:
    """The choice whose text every run printed; raises if the runs disagree or match none."""
    if len(set(printed)) != 1:
        raise RuntimeError(f"the runs printed different things: {printed}")
    answer = next((k for k, v in choices.items() if v == printed[0]), None)
    if answer is None:
        raise RuntimeError(f"printed {printed[0]!r}, which matches no choice")
    return answer


def stages(scale: bool) -> list[list[float]]:
    """The three pixel values after ToImage, after ToDtype and after Normalize."""
    pixels = np.array([[[0], [128], [255]]], dtype=np.uint8)
    image = v2.ToImage()(pixels)
    as_float = v2.ToDtype(torch.float32, scale=scale)(image)
    normalized = v2.Normalize(mean=[0.5], std=[0.5])(as_float)
    return [[round(float(v), 4) for v in t.flatten()] for t in (image, as_float, normalized)]


def run(ctx):
    choices = ctx.params.get("choices", CHOICES)
    printed = []
    for index, seed in enumerate(ctx.seeds):
        seed_everything(seed)  # nothing here is random; the output must not change
        printed.append(run_snippet(CODE))
        ctx.log(f"seed {seed}, the snippet prints: {printed[-1]}")
        ctx.progress(index + 1, len(ctx.seeds), f"seed {seed}")
    answer = decide(printed, choices)
    ctx.log(f"\nSame output in {len(ctx.seeds)} of {len(ctx.seeds)} seeds.")
    unscaled, scaled = stages(False), stages(True)
    for label, values in (("as written (scale=False)", unscaled), ("with scale=True", scaled)):
        ctx.log(f"{label}: ToImage {values[0]} -> ToDtype {values[1]} -> Normalize {values[2]}")
    default = inspect.signature(v2.ToDtype).parameters["scale"].default
    ctx.log(f"\nWhy: v2.ToDtype(torch.float32) only changes the dtype, because its scale "
            f"argument defaults to {default} (read from its signature): 255 stays "
            f"{unscaled[1][-1]}. Normalize then computes "
            f"(x - 0.5) / 0.5 = 2x - 1, giving {unscaled[2][0]} and {unscaled[2][-1]}. With "
            f"scale=True the uint8 range is divided by 255 first, and the same Normalize gives "
            f"{scaled[2][0]} to {scaled[2][-1]}.")
    return {"answer": answer, "metrics": {
        "printed": printed[0], "max_unscaled": unscaled[2][-1], "max_scaled": scaled[2][-1],
        "scale_default": str(default),
        "seeds": len(ctx.seeds)}}
