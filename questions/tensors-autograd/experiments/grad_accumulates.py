"""Runs the problem's own code: two gradient steps on w ** 2 with no zero_grad in between.

The snippet is executed exactly as the problem shows it, once per seed. Then the same loop is
traced step by step, with and without clearing `w.grad` before each backward, and the two
trajectories of w are plotted.
"""

from __future__ import annotations

import torch

from bot.worker.lab.snippet import first_sentence, match_choice, run_per_seed

CODE = """\
import torch

w = torch.tensor(3.0, requires_grad=True)
for step in range(2):
    loss = w ** 2
    loss.backward()
    with torch.no_grad():
        w -= 0.25 * w.grad
print(w.item(), w.grad.item())
"""

CHOICES = {
    "A": "0.75 3.0",
    "B": "-0.75 9.0",
    "C": "RuntimeError: a leaf Variable that requires grad is being used in an in-place operation",
    "D": "RuntimeError: Trying to backward through the graph a second time",
}
TRACE_STEPS = 8


def decide(printed: str, choices: dict[str, str] = CHOICES) -> str:
    """The letter whose text is what the code printed (an error matches by its start)."""
    return match_choice(printed, choices)


def trace(steps: int, clear: bool) -> list[tuple[float, float, float]]:
    """(this step's own gradient 2w, w.grad after backward, w after the update) per step."""
    w = torch.tensor(3.0, requires_grad=True)
    rows = []
    for _ in range(steps):
        if clear:
            w.grad = None  # what optimizer.zero_grad() does by default
        own = 2 * w.item()
        (w ** 2).backward()
        with torch.no_grad():
            w -= 0.25 * w.grad
        rows.append((own, w.grad.item(), w.item()))
    return rows


def outside_no_grad() -> str:
    w = torch.tensor(3.0, requires_grad=True)
    (w ** 2).backward()
    try:
        w -= 0.25 * w.grad
    except RuntimeError as exc:
        return first_sentence(f"RuntimeError: {exc}")
    return "nothing (no error)"


def figure(kept, cleared):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 3.6), dpi=100)
    steps = list(range(len(kept) + 1))
    ax.plot(steps, [3.0] + [r[2] for r in kept], marker="o", label="no zero_grad (the snippet)")
    ax.plot(steps, [3.0] + [r[2] for r in cleared], marker="s", label="w.grad = None each step")
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.set(title="w after each update of w -= 0.25 * w.grad, loss = w ** 2",
           xlabel="updates done", ylabel="w")
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def run(ctx):
    choices = ctx.params.get("choices", CHOICES)
    printed, _ = run_per_seed(ctx, CODE)

    kept, cleared = trace(TRACE_STEPS, clear=False), trace(TRACE_STEPS, clear=True)
    ctx.log("\nStep by step (own gradient 2w | w.grad after backward | w after update):")
    for label, rows in (("no zero_grad", kept), ("w.grad = None first", cleared)):
        ctx.log(f"  {label}:")
        for step, (own, grad, w) in enumerate(rows[:2]):
            ctx.log(f"    step {step}: {own:g} | {grad:g} | {w:g}")
    ctx.figure("w_trajectory", figure(kept, cleared))
    leaf_error = outside_no_grad()
    ctx.log(f"The same update *outside* torch.no_grad() raises: {leaf_error}")
    (_, grad0, w0), (own1, grad1, w1) = kept[0], kept[1]
    ctx.log(f"\nWhy: backward() *adds* into w.grad. Step 0 stores {grad0:g} and moves w to "
            f"{w0:g}. Step 1's own gradient is {own1:g}, but w.grad becomes "
            f"{grad0:g} + {own1:g} = {grad1:g}, so w moves by 0.25 x {grad1:g} to {w1:g}. "
            f"Clearing w.grad first would give {cleared[1][1]:g} and w = {cleared[1][2]:g}. "
            "Each loop iteration builds a fresh graph from w ** 2, so the second backward is "
            "allowed; the in-place update of a leaf that requires grad is refused only outside "
            "torch.no_grad(). "
            f"Over {TRACE_STEPS} steps w ends at {kept[-1][2]:.3g} without clearing and "
            f"{cleared[-1][2]:.3g} with it (figure).")
    answer = decide(printed, choices)
    return {"answer": answer, "metrics": {
        "printed": printed, "grad_after_step1": grad1, "w_after_step1": w1,
        "grad_after_step1_cleared": cleared[1][1], "w_after_step1_cleared": cleared[1][2],
        "w_final_no_zero_grad": kept[-1][2], "w_final_zero_grad": cleared[-1][2],
        "seeds": len(ctx.seeds)}}
