"""Reading a per-parameter gradient printout: which bug leaves the encoder's .grad at None?

One small encoder + head network on generated data (64 random features, labels from a
random linear teacher) is run once per answer choice, each arm with that choice's cause
built in, and the printout the problem shows (each parameter's gradient norm, or None) is
produced after backward. Same data, same initial weights (per seed) in every arm, except the
vanishing-gradient arm, which needs a deep sigmoid encoder to have vanishing gradients at all.
"""

from __future__ import annotations

import torch
from torch import nn

from bot.worker.lab.env import one_thread, seed_everything

BATCH = 64
DEEP = 10  # sigmoid layers in the vanishing-gradient arm
ARMS = {
    "A": "vanishing gradients (deep sigmoid encoder)",
    "B": "encoder output detached / under no_grad",
    "C": "learning rate too small (lr=1e-6)",
    "D": "optimizer.zero_grad() between backward and print",
}


class Net(nn.Module):
    def __init__(self, deep: bool = False) -> None:
        super().__init__()
        if deep:  # same names for the first and last encoder layers; sigmoids in between
            layers: list[nn.Module] = [nn.Linear(64, 32), nn.Sigmoid()]
            for _ in range(DEEP - 2):
                layers += [nn.Linear(32, 32), nn.Sigmoid()]
            layers += [nn.Linear(32, 16), nn.Sigmoid()]
        else:
            layers = [nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 16), nn.ReLU()]
        self.encoder = nn.Sequential(*layers)
        self.head = nn.Linear(16, 10)

    def forward(self, x: torch.Tensor, cut: str = "") -> torch.Tensor:
        if cut == "no_grad":
            with torch.no_grad():
                features = self.encoder(x)
        else:
            features = self.encoder(x)
            if cut == "detach":
                features = features.detach()
        return self.head(features)


def printout(model: nn.Module) -> dict[str, float | None]:
    return {name: None if p.grad is None else p.grad.norm().item()
            for name, p in model.named_parameters()}


def arm(letter: str, x, y, seed: int, device: str, cut: str = "detach", lr: float = 1e-6):
    seed_everything(seed)
    model = Net(deep=letter == "A").to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr if letter == "C" else 0.1)
    optimizer.zero_grad()
    loss = nn.functional.cross_entropy(model(x, cut if letter == "B" else ""), y)
    loss.backward()
    if letter == "D":
        optimizer.zero_grad()  # set_to_none=True is the default
    grads = printout(model)
    optimizer.step()
    return grads


def pattern(grads: dict[str, float | None]) -> tuple[int, int, int, int]:
    """(encoder grads that are None, encoder params, head grads that are None, head params)."""
    enc = [g for n, g in grads.items() if n.startswith("encoder.")]
    head = [g for n, g in grads.items() if n.startswith("head.")]
    return (sum(g is None for g in enc), len(enc), sum(g is None for g in head), len(head))


def decide(patterns: dict[str, tuple[int, int, int, int]]) -> str:
    """The one cause whose printout shows what the problem's does: every encoder gradient
    None, every head gradient a number."""
    matches = [k for k, (e_none, e_all, h_none, _) in patterns.items()
               if e_none == e_all and h_none == 0]
    if len(matches) != 1:
        raise ValueError(f"{len(matches)} causes reproduce the printout: {patterns}")
    return matches[0]


def fmt(value: float | None) -> str:
    return "None" if value is None else f"{value:.2e}"


def make_data(n: int, seed: int, device: str) -> tuple[torch.Tensor, torch.Tensor]:
    """64 random features; the label is the arg-max of a random linear map of them."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 64, generator=gen)
    y = (x @ torch.randn(64, 10, generator=gen)).argmax(1)
    return x.to(device), y.to(device)


def run(ctx):
    with one_thread():
        return experiment(ctx)


def experiment(ctx):
    per_seed, examples, lr_same, no_grad_same = [], {}, [], []
    for index, seed in enumerate(ctx.seeds):
        x, y = make_data(BATCH, seed, ctx.device)
        grads = {k: arm(k, x, y, seed, ctx.device) for k in ARMS}
        per_seed.append(decide({k: pattern(g) for k, g in grads.items()}))
        examples = examples or grads
        fast = arm("normal", x, y, seed, ctx.device)  # same model at lr=0.1
        lr_same.append(fast == grads["C"])
        no_grad_same.append(pattern(arm("B", x, y, seed, ctx.device, cut="no_grad"))
                            == pattern(grads["B"]))
        ctx.progress(index + 1, len(ctx.seeds), f"seed {seed}")

    patterns = {k: pattern(g) for k, g in examples.items()}
    ctx.log(f"Gradient norms after loss.backward(), seed {ctx.seeds[0]} (batch of {BATCH} "
            "generated examples):")
    for letter, label in ARMS.items():
        g = examples[letter]
        enc = [v for n, v in g.items() if n.startswith("encoder.") and n.endswith("weight")]
        ctx.log(f"  {letter} {label}:")
        ctx.log(f"     first encoder weight {fmt(enc[0])}, last encoder weight {fmt(enc[-1])}, "
                f"head.weight {fmt(g['head.weight'])}")
    answer = decide(patterns)
    held = per_seed.count(answer)
    ctx.log(f"Only {answer} gives encoder None with head numbers, in {held} of "
            f"{len(ctx.seeds)} seeds. torch.no_grad() around the encoder prints the same "
            f"pattern as .detach() in {sum(no_grad_same)} of {len(ctx.seeds)} seeds.")
    if patterns["D"][2] != patterns["D"][3]:  # zero_grad cleared the head too
        raise RuntimeError("the printouts do not fit the explanation below; update it")
    smallest = min(v for n, v in examples["A"].items() if n.startswith("encoder.") and v)
    ctx.log("\nWhy: None means backward() never reached that parameter: no path in the graph "
            "connects it to the loss. Cutting the graph between encoder and head does exactly "
            f"that. Vanishing gradients are small numbers, not None (smallest encoder norm "
            f"here {smallest:.1e}). The learning rate is used by optimizer.step(), after "
            f"backward: the printout at lr=1e-6 equals the one at lr=0.1 in {sum(lr_same)} of "
            f"{len(ctx.seeds)} seeds. zero_grad() after backward sets *every* gradient to "
            "None, the head's too.")
    return {"answer": answer, "metrics": {
        **{f"encoder_none_{k}": p[0] for k, p in patterns.items()},
        **{f"head_none_{k}": p[2] for k, p in patterns.items()},
        "vanishing_smallest_encoder_norm": smallest, "seeds_matching": held,
        "lr_printout_identical_seeds": sum(lr_same),
        "no_grad_same_as_detach_seeds": sum(no_grad_same), "seeds": len(ctx.seeds)}}
