"""Runs the problem's one Adam step and one AdamW step with weight_decay=0.1 and a zero loss
gradient, then repeats the step from other starting weights to show how far each pulls.
"""

from __future__ import annotations

import contextlib
import io

import torch

from bot.worker.lab.env import seed_everything

CHOICES = {
    "A": "Adam 99.0, AdamW 99.0",
    "B": "Adam 99.9, AdamW 99.0",
    "C": "Adam 99.0, AdamW 99.9",
    "D": "Adam 100.0, AdamW 99.0",
}
STARTS = (1.0, 10.0, 100.0, 1000.0)


def problem_code() -> None:
    """The snippet from the problem, line for line."""
    for Opt in (torch.optim.Adam, torch.optim.AdamW):
        w = torch.tensor([100.0], requires_grad=True)
        optimizer = Opt([w], lr=0.1, weight_decay=0.1)
        loss = (0 * w).sum()  # zero gradient: only weight decay moves w
        loss.backward()
        optimizer.step()
        print(Opt.__name__, round(w.item(), 3))


def one_step(make, start: float) -> float:
    """How far one step with a zero loss gradient moves a weight that starts at `start`."""
    w = torch.tensor([start], requires_grad=True)
    optimizer = make([w])
    (0 * w).sum().backward()
    optimizer.step()
    return start - w.item()


def as_choice(output: str) -> str:
    """'Adam 99.9\\nAdamW 99.0' -> 'Adam 99.9, AdamW 99.0', the choices' spelling."""
    return ", ".join(line.strip() for line in output.strip().splitlines())


def decide(output: str, choices: dict[str, str]) -> str:
    """The letter whose text is what the code printed."""
    printed = as_choice(output)
    for letter, text in choices.items():
        if text.strip() == printed:
            return letter
    raise RuntimeError(f"the code printed {printed!r}, which matches no choice")


def run(ctx):
    choices = ctx.params.get("choices", CHOICES)
    outputs = []
    for index, seed in enumerate(ctx.seeds):
        seed_everything(seed)  # nothing here is random; the seeds confirm that
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            problem_code()
        outputs.append(buffer.getvalue().strip())
        ctx.progress(index + 1, len(ctx.seeds), f"seed {seed}")
    if len(set(outputs)) != 1:
        raise RuntimeError(f"the output changed with the seed: {outputs}")
    output = outputs[0]
    ctx.log(f"The snippet prints (each of {len(ctx.seeds)} seeds):")
    ctx.log("\n".join(f"  {line}" for line in output.splitlines()))
    arms = {
        "Adam": lambda p: torch.optim.Adam(p, lr=0.1, weight_decay=0.1),
        "AdamW": lambda p: torch.optim.AdamW(p, lr=0.1, weight_decay=0.1),
        "Adam(decoupled_weight_decay=True)": lambda p: torch.optim.Adam(
            p, lr=0.1, weight_decay=0.1, decoupled_weight_decay=True),
    }
    moves = {name: [one_step(make, w0) for w0 in STARTS] for name, make in arms.items()}
    ctx.log("\nHow far one step pulls w towards 0 (lr=0.1, weight_decay=0.1, zero gradient):")
    width = max(len(name) for name in moves) + 1
    ctx.log(f"  {'start w:':{width}s} " + " ".join(f"{w0:>8g}" for w0 in STARTS))
    for name, moved in moves.items():
        ctx.log(f"  {name + ':':{width}s} " + " ".join(f"{m:8.4f}" for m in moved))
    adam, adamw = moves["Adam"], moves["AdamW"]
    ctx.log("\nWhy: Adam adds weight_decay x w to the gradient (an L2 term, here 0.1 x 100 = "
            "10) and then divides it by its own running scale sqrt(v), so the step is about "
            f"lr = 0.1 whatever the weight: {adam[0]:.3f} from w=1, {adam[-1]:.3f} from w=1000."
            " AdamW decouples the decay: it shrinks w by lr x weight_decay = 1% directly, "
            f"outside the adaptive scaling, so the pull grows with the weight: {adamw[0]:.3f} "
            f"from w=1, {adamw[-1]:.3f} from w=1000. With a real gradient the L2 term is mixed "
            "into Adam's m and v as well, which is the coupling AdamW removes (general "
            "knowledge: Loshchilov & Hutter, Decoupled Weight Decay Regularization).")
    same = all(abs(a - b) < 1e-6 for a, b in
               zip(moves["AdamW"], moves["Adam(decoupled_weight_decay=True)"], strict=True))
    ctx.log(f"Adam(decoupled_weight_decay=True) {'moves w exactly as' if same else 'differs from'}"
            " AdamW here.")
    answer = decide(output, choices)
    return {"answer": answer, "metrics": {
        "printed": as_choice(output), "adam_move_from_1000": round(adam[-1], 4),
        "adamw_move_from_1000": round(adamw[-1], 4), "decoupled_flag_matches_adamw": int(same),
        "seeds": len(ctx.seeds)}}
