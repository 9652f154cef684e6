"""Runs the problem's code and prints what it prints: how default_collate batches a dict.

The snippet is executed exactly as shown in the problem (the test checks the two texts are
identical), once per seed, and its output is matched to the choice with the same text.
"""

from __future__ import annotations

import contextlib
import io

import torch
from torch.utils.data import default_collate

from bot.worker.lab.env import seed_everything

CODE = """\
import torch
from torch.utils.data import DataLoader, Dataset

class Pets(Dataset):
    def __len__(self):
        return 10

    def __getitem__(self, i):
        return {"image": torch.rand(3, 8, 8), "label": i % 2}

batch = next(iter(DataLoader(Pets(), batch_size=4)))
print(batch["image"].shape, batch["label"])
"""

# The problem's choices; the derived answer is the letter whose text the code printed.
CHOICES = {
    "A": "torch.Size([4, 3, 8, 8]) [0, 1, 0, 1]",
    "B": "torch.Size([3, 8, 8, 4]) tensor([0, 1, 0, 1])",
    "C": "torch.Size([12, 8, 8]) tensor([0, 1, 0, 1])",
    "D": "torch.Size([4, 3, 8, 8]) tensor([0, 1, 0, 1])",
}


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


def run(ctx):
    choices = ctx.params.get("choices", CHOICES)
    printed = []
    for index, seed in enumerate(ctx.seeds):
        seed_everything(seed)  # changes the random pixels, not the shapes or the labels
        printed.append(run_snippet(CODE))
        ctx.log(f"seed {seed}, the snippet prints: {printed[-1]}")
        ctx.progress(index + 1, len(ctx.seeds), f"seed {seed}")
    answer = decide(printed, choices)
    samples = [{"image": torch.rand(3, 8, 8), "label": i % 2} for i in range(4)]
    batch = default_collate(samples)
    label = batch["label"]
    ctx.log(f"\nSame output in {len(ctx.seeds)} of {len(ctx.seeds)} seeds.")
    ctx.log(f"default_collate on 4 such samples gives a {type(batch).__name__} with keys "
            f"{list(batch)}; 'image' {tuple(batch['image'].shape)}, 'label' a "
            f"{type(label).__name__} of dtype {label.dtype}.")
    ctx.log("\nWhy: the default collate function keeps the structure of one sample (a dict "
            "stays a dict with the same keys) and, for each key, stacks the 4 values along a "
            f"new first dimension: four (3, 8, 8) images become {tuple(batch['image'].shape)}, "
            f"and four Python ints become one {label.dtype} tensor of shape "
            f"{tuple(label.shape)}.")
    return {"answer": answer, "metrics": {
        "printed": printed[0], "label_dtype": str(label.dtype),
        "image_shape": str(tuple(batch["image"].shape)), "seeds": len(ctx.seeds)}}
