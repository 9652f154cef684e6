"""What GradScaler is for: float16 gradients that are too small to represent.

A small MLP memorises one batch (so its loss, and its gradients, become tiny, as they are
late in training). Then one backward pass is taken four ways from the same weights: in
float32 (the reference), under float16 autocast, under float16 autocast with
torch.amp.GradScaler, and under bfloat16 autocast. Counted: gradient entries that are
non-zero in float32 but came out exactly 0, and the error of the whole gradient.
"""

from __future__ import annotations

import statistics

import torch
from torch import nn

from bot.worker.lab.env import seed_everything

SIZES = {"test": {"steps": 40}, "cpu": {"steps": 60}, "full": {"steps": 100}}
ARMS = ("float16", "float16 + GradScaler", "bfloat16")
INIT_SCALE = 2.0**16  # GradScaler's default starting scale


def make_model(device: str) -> nn.Module:
    return nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(),
                         nn.Linear(128, 10)).to(device)


def memorise(seed: int, steps: int, device: str):
    """A model that has fitted a fixed batch of 256 random inputs and labels."""
    seed_everything(seed)
    model = make_model(device)
    x = torch.randn(256, 64, device=device)
    y = torch.randint(0, 10, (256,), device=device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(steps):
        optimizer.zero_grad(set_to_none=True)
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
    return model, optimizer, x, y


def gradient(model, optimizer, x, y, arm: str | None,
             device_type: str) -> tuple[torch.Tensor, float]:
    """All parameter gradients as one float32 vector (unscaled), and the loss."""
    optimizer.zero_grad(set_to_none=True)
    if arm is None:
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
    else:
        dtype = torch.bfloat16 if arm == "bfloat16" else torch.float16
        with torch.autocast(device_type=device_type, dtype=dtype):
            loss = nn.functional.cross_entropy(model(x), y)
        if arm.endswith("GradScaler"):
            scaler = torch.amp.GradScaler(device_type, init_scale=INIT_SCALE)
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)  # divides the gradients by the scale, in float32
        else:
            loss.backward()
    grads = torch.cat([p.grad.detach().float().flatten() for p in model.parameters()])
    return grads, loss.item()


def decide(zeroed_fp16: float, zeroed_scaled: float, nonfinite_fp16: float,
           weights_half: bool, margin: float = 0.01) -> str:
    """Maps what float16 did to the gradients to the choice it supports."""
    if weights_half:
        return "C"  # the parameters themselves became float16
    if zeroed_fp16 >= margin and zeroed_fp16 >= zeroed_scaled + margin:
        return "D"  # small gradients flushed to 0, and scaling brought them back
    if nonfinite_fp16 > 0:
        return "B"  # the trouble was gradients too large for float16
    raise ValueError("float16 lost no gradients here: no choice is supported")


def run(ctx):
    cfg = {**SIZES[ctx.size], **ctx.params}
    device_type = "cuda" if str(ctx.device).startswith("cuda") else "cpu"
    rows: dict[str, dict[str, list[float]]] = {a: {"zeroed": [], "error": [], "nonfinite": []}
                                               for a in ARMS}
    losses, sizes, weights_half = [], [], False
    for index, seed in enumerate(ctx.seeds):
        model, optimizer, x, y = memorise(seed, cfg["steps"], ctx.device)
        ref, loss = gradient(model, optimizer, x, y, None, device_type)
        losses.append(loss)
        nonzero = ref != 0
        sizes.append(float(ref.abs().median()))
        for arm in ARMS:
            grads, _ = gradient(model, optimizer, x, y, arm, device_type)
            rows[arm]["zeroed"].append(float(((grads == 0) & nonzero).float().mean()))
            rows[arm]["error"].append(float((grads - ref).norm() / ref.norm()))
            rows[arm]["nonfinite"].append(float((~torch.isfinite(grads)).float().mean()))
        weights_half |= any(p.dtype != torch.float32 for p in model.parameters())
        ctx.progress(index + 1, len(ctx.seeds), f"seed {seed}")
    med = {a: {k: statistics.median(v) for k, v in r.items()} for a, r in rows.items()}
    ctx.log(f"An MLP memorised one batch for {cfg['steps']} Adam steps (seeds {ctx.seeds}); "
            f"training loss then: {', '.join(f'{v:.1e}' for v in losses)}. The median "
            f"float32 gradient entry is then {statistics.median(sizes):.0e} in size.")
    ctx.log(f"\nOne backward pass from the same weights ({device_type}), against float32:")
    for arm in ARMS:
        held = sum(z < rows[ARMS[0]]["zeroed"][i] for i, z in enumerate(rows[arm]["zeroed"]))
        extra = "" if arm == ARMS[0] else f"; fewer than float16 in {held} of {len(ctx.seeds)}"
        ctx.log(f"  {arm:<21} flushed to 0: {med[arm]['zeroed']:.2%} of entries, gradient "
                f"error {med[arm]['error']:.1%}{extra}")
    answer = decide(med[ARMS[0]]["zeroed"], med[ARMS[1]]["zeroed"],
                    med[ARMS[0]]["nonfinite"], weights_half)
    ctx.figure("gradients-flushed-to-zero", figure(med))
    ctx.log("\n" + EXPLAIN.get(answer, "").format(
        z16=med[ARMS[0]]["zeroed"], zs=med[ARMS[1]]["zeroed"], zb=med[ARMS[2]]["zeroed"],
        e16=med[ARMS[0]]["error"], es=med[ARMS[1]]["error"], eb=med[ARMS[2]]["error"],
        scale=int(INIT_SCALE)))
    return {"answer": answer, "metrics": {
        "loss_median": statistics.median(losses),
        "zeroed_fp16": round(med[ARMS[0]]["zeroed"], 5),
        "zeroed_fp16_scaled": round(med[ARMS[1]]["zeroed"], 5),
        "zeroed_bf16": round(med[ARMS[2]]["zeroed"], 5),
        "error_fp16": round(med[ARMS[0]]["error"], 4),
        "error_fp16_scaled": round(med[ARMS[1]]["error"], 4),
        "error_bf16": round(med[ARMS[2]]["error"], 4),
        "weights_stay_fp32": int(not weights_half), "seeds": len(ctx.seeds)}}


def figure(med):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 3.6), dpi=100)
    values = [100 * med[a]["zeroed"] for a in ARMS]
    ax.bar(list(ARMS), values, color=["#c44e52", "#55a868", "#4c72b0"])
    for i, v in enumerate(values):
        ax.text(i, v, f"{v:.2f}%", ha="center", va="bottom")
    ax.set(title="Gradient entries flushed to 0 (non-zero in float32), median of seeds",
           ylabel="% of entries", ylim=(0, max(values + [0.1]) * 1.2))
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


EXPLAIN = {
    "D": ("Why: float16 has only 5 exponent bits: its smallest positive value is 2^-24, "
          "about 6e-8, and anything much smaller rounds to 0 (a property of the format). "
          "Under float16 autocast the backward pass of each float16 op produces float16 "
          "gradients (PyTorch's AMP documentation), so the tiny ones vanish: {z16:.2%} of the "
          "entries came out 0, and the gradient was off by {e16:.0%}. GradScaler multiplies "
          "the loss by {scale} before backward(), which lifts the gradients into float16's "
          "range ({zs:.2%} zeroed, error {es:.1%}); unscale_() (or scaler.step) divides them "
          "back in float32 before the update, and the weights stayed float32 throughout "
          "(checked). bfloat16 has float32's 8 exponent bits, so none vanished ({zb:.2%}); "
          "its coarser mantissa still rounds (error {eb:.1%}). That is why bfloat16 autocast "
          "is normally used without a scaler (general knowledge)."),
    "B": "Why: float16 overflowed here (inf or NaN gradients) rather than underflowing.",
    "C": "Why: the parameters themselves ended up in float16 in this run.",
}
