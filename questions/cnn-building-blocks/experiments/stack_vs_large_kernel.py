"""Which design covers a 7x7 receptive field with the fewest weights (64 channels in and out,
no biases)?

For each choice: count the parameters, and measure the receptive field by back-propagating
from the centre output pixel and measuring the span of non-zero input gradients. Weights and
input are made positive so no ReLU zeroes a path and no sum cancels: the span is then exactly
the set of pixels the output can depend on. Every seed draws new weights and inputs.
"""

from __future__ import annotations

import torch
from torch import nn

from bot.worker.lab import plots
from bot.worker.lab.env import seed_everything

C, SIZE, TARGET = 64, 21, 7


def design(letter: str) -> nn.Sequential:
    """The four choices of the problem."""
    def conv(k: int) -> nn.Conv2d:
        return nn.Conv2d(C, C, k, padding=k // 2, bias=False)

    if letter == "A":
        return nn.Sequential(conv(3), nn.ReLU(), conv(3), nn.ReLU(), conv(3), nn.ReLU())
    if letter == "B":
        return nn.Sequential(conv(7), nn.ReLU())
    if letter == "C":
        return nn.Sequential(conv(5), nn.ReLU(), conv(3), nn.ReLU())
    if letter == "D":
        return nn.Sequential(conv(7), nn.ReLU(), conv(1), nn.ReLU())
    raise ValueError(letter)


LABELS = {"A": "three 3x3", "B": "one 7x7", "C": "5x5 + 3x3", "D": "7x7 + 1x1"}


def receptive_field(net: nn.Sequential, device: str) -> int:
    with torch.no_grad():
        for p in net.parameters():
            p.abs_()
    net = net.to(device)
    x = torch.rand(1, C, SIZE, SIZE, device=device, requires_grad=True)
    net(x)[0, :, SIZE // 2, SIZE // 2].sum().backward()
    cols = (x.grad[0] != 0).any(dim=0).any(dim=0).nonzero()
    return int(cols.max() - cols.min() + 1)


def decide(params: dict[str, int], fields: dict[str, int], target: int = TARGET) -> str:
    """Among the designs whose measured field is target x target, the one with fewest weights."""
    fitting = {k: n for k, n in params.items() if fields[k] == target}
    if not fitting:
        raise RuntimeError(f"no design reaches {target}x{target}: {fields}")
    return min(fitting, key=lambda k: fitting[k])


def run(ctx):
    fields: dict[str, list[int]] = {k: [] for k in LABELS}
    params: dict[str, int] = {}
    for index, seed in enumerate(ctx.seeds):
        for letter in LABELS:
            seed_everything(seed)
            net = design(letter)
            params[letter] = sum(p.numel() for p in net.parameters())
            fields[letter].append(receptive_field(net, ctx.device))
        ctx.progress(index + 1, len(ctx.seeds), f"seed {seed}")
    for letter, values in fields.items():
        if len(set(values)) != 1:
            raise RuntimeError(f"{LABELS[letter]}: field differs per seed: {values}")
    field = {k: v[0] for k, v in fields.items()}
    ctx.log(f"{C} channels in and out, no biases; receptive field measured from gradients "
            f"(same in all {len(ctx.seeds)} seeds):")
    for letter, label in LABELS.items():
        relus = sum(isinstance(m, nn.ReLU) for m in design(letter))
        ctx.log(f"  {letter}. {label:<10} field {field[letter]}x{field[letter]}, "
                f"{params[letter]:>7,} weights = {params[letter] / C**2:.0f} x C^2, "
                f"{relus} ReLU")
    ctx.figure("weights-per-design", plots.bars(
        f"Weights for a {TARGET}x{TARGET} receptive field ({C} channels in and out)",
        {LABELS[k]: float(v) for k, v in params.items()}, ylabel="weights"))
    answer = decide(params, field)
    ctx.log(f"\nWhy: each KxK conv from C to C channels costs K^2 x C^2 weights. Three 3x3 "
            f"layers grow the field by 2 each (3 -> 5 -> 7) for 3 x 9 = 27 C^2; one 7x7 costs "
            f"49 C^2 ({params['B'] / params['A']:.2f}x as much) for the same "
            f"{field['B']}x{field['B']} field, and adds only one non-linearity instead of "
            "three. A 1x1 conv adds weights but no field.")
    return {"answer": answer, "metrics": {
        **{f"weights_{k}": v for k, v in params.items()},
        **{f"field_{k}": v for k, v in field.items()}, "seeds": len(ctx.seeds)}}
