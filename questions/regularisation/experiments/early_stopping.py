"""Early stopping: which checkpoint of a run that memorises noisy labels generalises best?

An MLP trains full-batch (one step = one epoch) on digits, 30% of whose training labels were
replaced by a wrong digit; validation and test digits keep their true labels. Validation loss
is logged every few epochs and three candidate checkpoints are kept: the final one, the one
with the lowest validation loss, and the one where training and validation loss were
closest. Each is then scored on test digits no choice looked at.
"""

from __future__ import annotations

import copy
import statistics

import torch
from torch import nn

from bot.worker.lab import plots
from bot.worker.lab.digits import digits, evaluate, split
from bot.worker.lab.env import one_thread, seed_everything

SIZES = {
    "test": {"train": 300, "val": 400, "test": 600, "epochs": 150},
    "cpu": {"train": 300, "val": 500, "test": 900, "epochs": 250},
    "full": {"train": 400, "val": 500, "test": 800, "epochs": 400},
}
NOISE, LR, HIDDEN, EVAL_EVERY = 0.3, 3e-3, 64, 5
POLICIES = {"A": "final epoch", "B": "lowest val loss", "C": "smallest train/val gap"}


def corrupt(labels: torch.Tensor, fraction: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Replaces about `fraction` of the labels by a different, random digit."""
    gen = torch.Generator().manual_seed(seed)
    flip = (torch.rand(len(labels), generator=gen) < fraction).to(labels.device)
    shift = torch.randint(1, 10, (len(labels),), generator=gen).to(labels.device)
    return torch.where(flip, (labels + shift) % 10, labels), flip


@torch.no_grad()
def memorised(model: nn.Module, images, noisy, flip) -> float:
    """Share of the wrongly labelled training digits the model predicts as their wrong label."""
    model.eval()
    return (model(images[flip]).argmax(1) == noisy[flip]).float().mean().item()


def train_one(seed: int, cfg: dict, data, device: str) -> dict:
    (train_x, train_y), (val_x, val_y), (test_x, test_y) = data
    noisy_y, flip = corrupt(train_y, NOISE, seed)
    seed_everything(seed)
    model = nn.Sequential(nn.Linear(64, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, HIDDEN),
                          nn.ReLU(), nn.Linear(HIDDEN, 10)).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    curve = {"epoch": [], "train": [], "val": []}
    kept = {"B": (float("inf"), None, 0), "C": (float("inf"), None, 0)}
    for epoch in range(1, cfg["epochs"] + 1):
        model.train()
        loss = nn.functional.cross_entropy(model(train_x), noisy_y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if epoch % EVAL_EVERY == 0:
            train_loss = evaluate(model, train_x, noisy_y)[0]
            val_loss = evaluate(model, val_x, val_y)[0]
            for key, score in (("B", val_loss), ("C", abs(val_loss - train_loss))):
                if score < kept[key][0]:
                    kept[key] = (score, copy.deepcopy(model.state_dict()), epoch)
            for key, value in (("epoch", epoch), ("train", train_loss), ("val", val_loss)):
                curve[key].append(value)
    test_acc, epochs = {"A": evaluate(model, test_x, test_y)[1]}, {"A": cfg["epochs"]}
    fitted = {"A": memorised(model, train_x, noisy_y, flip)}
    for key, (_, state, epoch) in kept.items():
        model.load_state_dict(state)
        test_acc[key], epochs[key] = evaluate(model, test_x, test_y)[1], epoch
        fitted[key] = memorised(model, train_x, noisy_y, flip)
    return {"test_acc": test_acc, "epochs": epochs, "curve": curve,
            "flipped": int(flip.sum()), "memorised": fitted}


def decide(test_acc: dict[str, float], margin: float = 0.02) -> str:
    """The policy whose checkpoint scored best on test, if it wins by `margin`; D if all tie."""
    ranked = sorted(test_acc, key=test_acc.get, reverse=True)
    if test_acc[ranked[0]] - test_acc[ranked[-1]] < margin:
        return "D"  # no checkpoint is clearly better than any other
    if test_acc[ranked[0]] - test_acc[ranked[1]] < margin:
        raise RuntimeError(f"no clear winner: {test_acc}")
    return ranked[0]


def run(ctx):
    cfg = {**SIZES[ctx.size], **ctx.params}
    runs = []
    with one_thread(ctx.device):
        images, labels = digits(ctx.device)
        for index, seed in enumerate(ctx.seeds):
            data = split(images, labels, seed, cfg["train"], cfg["val"], cfg["test"])
            runs.append(train_one(seed, cfg, data, ctx.device))
            ctx.progress(index + 1, len(ctx.seeds), f"seed {seed}")
    ctx.log(f"MLP 64-{HIDDEN}-{HIDDEN}-10, Adam lr {LR}, {cfg['epochs']} full-batch epochs on "
            f"{cfg['train']} digits with {NOISE:.0%} of the training labels wrong "
            f"({', '.join(str(r['flipped']) for r in runs)} per seed); {cfg['val']} validation "
            f"and {cfg['test']} test digits, correctly labelled.")
    curve = runs[0]["curve"]
    ctx.log(f"\nSeed {ctx.seeds[0]}'s log (every {4 * EVAL_EVERY} epochs):")
    ctx.log("  epoch  train loss  val loss")
    for i in range(3, len(curve["epoch"]), 4):
        ctx.log(f"  {curve['epoch'][i]:5d}  {curve['train'][i]:10.3f}  {curve['val'][i]:8.3f}")
    ctx.log("\nTest accuracy of each checkpoint (epoch chosen), per seed:")
    for key, name in POLICIES.items():
        cells = ", ".join(f"{r['test_acc'][key]:.1%} (ep {r['epochs'][key]})" for r in runs)
        ctx.log(f"  {key} {name:<22} {cells}")
    mean = {key: statistics.fmean(r["test_acc"][key] for r in runs) for key in POLICIES}
    wins = sum(r["test_acc"]["B"] > max(r["test_acc"]["A"], r["test_acc"]["C"]) for r in runs)
    ctx.log("Means: " + ", ".join(f"{key} {mean[key]:.1%}" for key in POLICIES)
            + f". The lowest-val-loss checkpoint was best in {wins} of {len(runs)} seeds.")
    answer = decide(mean)
    fig = plots.curves(
        f"Cross-entropy, {NOISE:.0%} of training labels wrong (one line per seed)",
        {"train (noisy labels)": [(r["curve"]["epoch"], r["curve"]["train"]) for r in runs],
         "validation (true labels)": [(r["curve"]["epoch"], r["curve"]["val"]) for r in runs]},
        xlabel="epoch", ylabel="cross-entropy")
    top = max(max(r["curve"]["val"] + r["curve"]["train"]) for r in runs)
    fig.axes[0].set_ylim(0, 1.05 * top)  # plots.curves is scaled for accuracy
    fig.axes[0].legend(loc="best", fontsize="small")
    ctx.figure("early-stopping-curves", fig)
    b_epochs = [r["epochs"]["B"] for r in runs]
    fit = {key: statistics.fmean(r["memorised"][key] for r in runs) for key in ("A", "B")}
    ctx.log("\n" + (
        f"Why: validation loss bottoms out at epochs {', '.join(map(str, b_epochs))} of "
        f"{cfg['epochs']}. There the network predicts the wrong label for {fit['B']:.0%} of "
        "the mislabelled training digits; by the last epoch it does so for "
        f"{fit['A']:.0%}: the later epochs lower the training loss mostly by memorising the "
        "wrong labels, which validation loss punishes. The final weights have the lowest "
        "training loss and score "
        f"{mean['A']:.1%} on test; the lowest-validation-loss weights score {mean['B']:.1%}. "
        "The checkpoints where train and validation loss were closest (epochs "
        f"{', '.join(str(r['epochs']['C']) for r in runs)}) score {mean['C']:.1%}: a small "
        "gap alone does not make a good model. Early stopping keeps a copy of the weights at "
        "the best validation epoch and restores it at the end." if answer == "B" else
        f"This run points to {answer}; see the numbers above."))
    return {"answer": answer, "metrics": {
        **{f"test_acc_{POLICIES[k].replace(' ', '_').replace('/', '_')}": round(v, 4)
           for k, v in mean.items()},
        "best_val_epoch_mean": round(statistics.fmean(b_epochs), 1),
        "wrong_labels_fitted_best": round(fit["B"], 4),
        "wrong_labels_fitted_final": round(fit["A"], 4),
        "seeds_best_val_won": wins, "seeds": len(ctx.seeds)}}
