"""Why a dropout network's training loss sits above its validation loss.

A small MLP with nn.Dropout(0.5) trains on sklearn's digits. As a training loop logs it,
the training loss is the mean of the mini-batch losses of the last epoch, computed in train
mode (dropout on); the validation loss is computed after model.eval() (dropout off). Then
the same trained weights are scored on the training set in eval mode, to separate the two
possible causes: dropout, or a validation set that is easier than the training set.
"""

from __future__ import annotations

import statistics

import torch
from torch import nn

from bot.worker.lab import plots
from bot.worker.lab.digits import digits, evaluate, split
from bot.worker.lab.env import one_thread, seed_everything

SIZES = {
    # The problem reads the log after 20 epochs; larger sizes measure validation more finely.
    "test": {"train": 500, "val": 500, "epochs": 20, "batch": 100},
    "cpu": {"train": 500, "val": 800, "epochs": 20, "batch": 100},
    "full": {"train": 500, "val": 1200, "epochs": 20, "batch": 100},
}
P, HIDDEN, LR = 0.5, 128, 2e-3


def make_model() -> nn.Sequential:
    return nn.Sequential(nn.Linear(64, HIDDEN), nn.ReLU(), nn.Dropout(P),
                         nn.Linear(HIDDEN, HIDDEN), nn.ReLU(), nn.Dropout(P),
                         nn.Linear(HIDDEN, 10))


def train_one(seed: int, cfg: dict, data, device: str) -> dict[str, list[float]]:
    """Logs, per epoch: the running train loss (train mode) and the val loss (eval mode)."""
    (train_x, train_y), (val_x, val_y) = data
    seed_everything(seed)
    model = make_model().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    gen = torch.Generator().manual_seed(seed)
    log = {"running": [], "val": [], "train_eval": []}
    for _ in range(cfg["epochs"]):
        model.train()
        order = torch.randperm(len(train_y), generator=gen).to(device)
        losses = []
        for start in range(0, len(order), cfg["batch"]):
            index = order[start:start + cfg["batch"]]
            loss = nn.functional.cross_entropy(model(train_x[index]), train_y[index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        log["running"].append(statistics.fmean(losses))
        log["val"].append(evaluate(model, val_x, val_y)[0])
        log["train_eval"].append(evaluate(model, train_x, train_y)[0])
    log["train_eval_acc"] = [evaluate(model, train_x, train_y)[1]]
    return log


def decide(running: float, train_eval: float, val: float, train_eval_acc: float,
           margin: float = 1.1) -> str:
    """Maps the final-epoch losses (means over seeds) to the diagnosis they support."""
    if train_eval_acc < 0.9:
        return "C"  # it does not even fit its training data
    if train_eval > val * margin:
        return "B"  # above validation even with dropout off: the validation set is easier
    if running > val * margin:
        return "A"  # above validation only while dropout is on
    raise RuntimeError(f"the training loss ({running:.3f}) did not come out above the "
                       f"validation loss ({val:.3f}): the run does not show the situation")


def run(ctx):
    cfg = {**SIZES[ctx.size], **ctx.params}
    with one_thread(ctx.device):
        images, labels = digits(ctx.device)
        logs = []
        for index, seed in enumerate(ctx.seeds):
            data = split(images, labels, seed, cfg["train"], cfg["val"])
            logs.append(train_one(seed, cfg, data, ctx.device))
            ctx.progress(index + 1, len(ctx.seeds), f"seed {seed}")
    last = {key: [log[key][-1] for log in logs] for key in ("running", "val", "train_eval")}
    acc = [log["train_eval_acc"][0] for log in logs]
    mean = {key: statistics.fmean(values) for key, values in last.items()}
    mean["train_acc"] = statistics.fmean(acc)
    ctx.log(f"MLP 64-{HIDDEN}-{HIDDEN}-10 with nn.Dropout({P}) after each hidden layer, Adam "
            f"lr {LR}, {cfg['epochs']} epochs on {cfg['train']} digits ({cfg['val']} for "
            f"validation), seeds {ctx.seeds}. Last epoch, per seed:")
    ctx.log("  seed  train loss as logged (train mode)  val loss (eval)  train loss (eval)")
    for seed, run_, val, tre in zip(ctx.seeds, last["running"], last["val"],
                                    last["train_eval"], strict=True):
        ctx.log(f"  {seed:4d}  {run_:32.3f}  {val:15.3f}  {tre:17.3f}")
    ctx.log(f"  mean  {mean['running']:32.3f}  {mean['val']:15.3f}  {mean['train_eval']:17.3f}")
    above = sum(r > v for r, v in zip(last["running"], last["val"], strict=True))
    below = sum(t < v for t, v in zip(last["train_eval"], last["val"], strict=True))
    ctx.log(f"Logged train loss above val loss in {above} of {len(logs)} seeds; with dropout "
            f"off, train loss below val loss in {below} of {len(logs)}.")
    answer = decide(mean["running"], mean["train_eval"], mean["val"], mean["train_acc"])
    fig = plots.curves(
        "Cross-entropy per epoch (one line per seed)",
        {"train, as logged (dropout on)": [(list(range(1, cfg["epochs"] + 1)), g["running"])
                                           for g in logs],
         "validation (eval mode)": [(list(range(1, cfg["epochs"] + 1)), g["val"]) for g in logs],
         "train, eval mode": [(list(range(1, cfg["epochs"] + 1)), g["train_eval"])
                              for g in logs]},
        xlabel="epoch", ylabel="cross-entropy")
    top = max(max(g["running"]) for g in logs)
    fig.axes[0].set_ylim(0, 1.05 * top)  # plots.curves is scaled for accuracy
    fig.axes[0].legend(loc="best", fontsize="small")
    ctx.figure("dropout-train-vs-val-loss", fig)
    ctx.log("\n" + explain(answer, mean))
    return {"answer": answer, "metrics": {
        "train_loss_logged": round(mean["running"], 4), "val_loss": round(mean["val"], 4),
        "train_loss_eval_mode": round(mean["train_eval"], 4),
        "train_acc_eval_mode": round(statistics.fmean(acc), 4),
        "seeds_logged_above_val": above, "seeds": len(ctx.seeds)}}


def explain(answer: str, mean: dict[str, float]) -> str:
    if answer == "A":
        return (f"Why: the last epoch's training batches gave {mean['running']:.3f} with "
                f"dropout on, yet the final weights score {mean['train_eval']:.3f} on the whole "
                f"training set with dropout off, below the {mean['val']:.3f} on validation "
                f"(training accuracy in eval mode {mean['train_acc']:.0%}). So the training set "
                "is not harder and the model is not underfitting: the logged training loss is "
                f"measured on a handicapped network, with each hidden unit zeroed with "
                f"probability {P} at every step, while validation runs the full network. "
                "Compare train and val losses in the same mode.")
    if answer == "B":
        return ("Why: even in eval mode the training loss stays above the validation loss, so "
                "dropout does not explain it: the validation set looks easier.")
    return "Why: the model does not fit its own training data: underfitting."
