"""Runs the problem's own code and prints what it prints: a label-smoothed cross-entropy.

Then recomputes the number by hand from the smoothed target distribution, and shows what the
other conventions a learner might assume would have given.
"""

from __future__ import annotations

import contextlib
import io
import math

import torch
from torch import nn

from bot.worker.lab.env import seed_everything

CHOICES = {"A": "0.00", "B": "2.00", "C": "1.00", "D": "0.20"}


def problem_code() -> None:
    """The snippet from the problem, unchanged."""
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.2)
    logits = torch.tensor([[10.0, 0.0]])
    target = torch.tensor([0])
    print(f"{loss_fn(logits, target).item():.2f}")


def printed_by(code) -> str:
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        code()
    return buffer.getvalue().strip()


def decide(printed: str, choices: dict[str, str] = CHOICES) -> str:
    """The letter whose text is what the snippet printed; no match is an error."""
    for letter, text in choices.items():
        if text.strip() == printed.strip():
            return letter
    raise RuntimeError(f"the snippet printed {printed!r}, which matches no choice")


def by_hand(target_probs: list[float], logits: list[float]) -> float:
    """Cross-entropy of a target distribution against softmax(logits)."""
    log_z = math.log(sum(math.exp(v) for v in logits))
    return -sum(t * (v - log_z) for t, v in zip(target_probs, logits, strict=True))


def run(ctx):
    choices = ctx.params.get("choices", CHOICES)
    outputs = []
    for index, seed in enumerate(ctx.seeds):
        seed_everything(seed)  # nothing here is random; the seeds show that
        outputs.append(printed_by(problem_code))
        ctx.progress(index + 1, len(ctx.seeds), f"seed {seed}")
    ctx.log(f"The snippet prints {outputs[0]} (the same in "
            f"{sum(o == outputs[0] for o in outputs)} of {len(outputs)} seeds).")
    logits, eps, k = [10.0, 0.0], 0.2, 2
    smoothed = [(1 - eps) + eps / k, eps / k]
    log_p = [v - math.log(sum(math.exp(u) for u in logits)) for v in logits]
    ctx.log(f"\nlog-softmax of [10, 0] = [{log_p[0]:.5f}, {log_p[1]:.5f}]")
    ctx.log(f"PyTorch's smoothed target: (1 - {eps}) x one-hot + {eps}/{k} on every class = "
            f"[{smoothed[0]:.1f}, {smoothed[1]:.1f}]")
    ctx.log(f"loss = -({smoothed[0]:.1f} x {log_p[0]:.5f} + {smoothed[1]:.1f} x {log_p[1]:.5f}) "
            f"= {by_hand(smoothed, logits):.5f}")
    plain = by_hand([1.0, 0.0], logits)
    all_off = by_hand([1 - eps, eps], logits)
    ctx.log(f"\nOther readings: no smoothing gives {plain:.5f} (prints {plain:.2f}); putting all "
            f"{eps} on the wrong class, target [{1 - eps:.1f}, {eps:.1f}], gives {all_off:.2f}.")
    logits_t = torch.tensor([logits], requires_grad=True)
    nn.CrossEntropyLoss(label_smoothing=eps)(logits_t, torch.tensor([0])).backward()
    grad = logits_t.grad[0].tolist()
    best_gap = math.log(smoothed[0] / smoothed[1])
    ctx.log("\nWhy: with smoothing the target keeps some probability on the wrong class, so a "
            f"logit gap of 10 no longer gives a near-zero loss: {smoothed[1]:.1f} x "
            f"{-log_p[1]:.2f} = {smoothed[1] * -log_p[1]:.2f} comes from the wrong class alone. "
            f"The loss is lowest where softmax equals the target, at a gap of "
            f"ln({smoothed[0]:.1f}/{smoothed[1]:.1f}) = {best_gap:.2f}; the gradient on the "
            f"logits here is [{grad[0]:+.3f}, {grad[1]:+.3f}], so a step shrinks the gap of 10 "
            "towards it: towards a less confident prediction.")
    answer = decide(outputs[0], choices)
    if len(set(outputs)) != 1:
        raise RuntimeError(f"the output changed with the seed: {outputs}")
    return {"answer": answer, "metrics": {
        "printed": outputs[0], "by_hand": round(by_hand(smoothed, logits), 6),
        "unsmoothed": round(plain, 6), "loss_minimising_gap": round(best_gap, 4),
        "all_eps_on_wrong_class": round(all_off, 6),
        "seeds": len(ctx.seeds)}}
