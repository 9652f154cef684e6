"""Runs the problem's own early-stopping loop and prints what it prints, with a trace.

The loop is plain Python over a fixed list of validation losses, so every seed gives the same
output; the trace shows the patience counter epoch by epoch.
"""

from __future__ import annotations

import contextlib
import io

from bot.worker.lab.env import seed_everything

CHOICES = {"A": "7 6", "B": "8 6", "C": "5 4", "D": "10 6"}
VAL_LOSS = [0.90, 0.62, 0.48, 0.41, 0.43, 0.39, 0.40, 0.42, 0.44, 0.47]


def problem_code(trace: list[str] | None = None) -> None:
    """The snippet from the problem; `trace` (not in the snippet) records each epoch."""
    val_loss = [0.90, 0.62, 0.48, 0.41, 0.43, 0.39, 0.40, 0.42, 0.44, 0.47]
    patience, best, best_epoch, bad = 2, float("inf"), 0, 0
    for epoch, loss in enumerate(val_loss, start=1):
        if loss < best:
            best, best_epoch, bad = loss, epoch, 0
        else:
            bad += 1
            if bad >= patience:
                break
        if trace is not None:
            trace.append(f"  epoch {epoch:2d}: val_loss {loss:.2f}  best {best:.2f} "
                         f"(epoch {best_epoch})  bad {bad}")
    if trace is not None:
        trace.append(f"  epoch {epoch:2d}: val_loss {loss:.2f}  best {best:.2f} "
                     f"(epoch {best_epoch})  bad {bad} >= patience: break")
    print(epoch, best_epoch)


def printed_by(code) -> str:
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        code()
    return buffer.getvalue().strip()


def decide(printed: str, choices: dict[str, str] = CHOICES) -> str:
    """The letter whose text is what the snippet printed; no match is an error."""
    for letter, text in choices.items():
        if text.split() == printed.split():
            return letter
    raise RuntimeError(f"the snippet printed {printed!r}, which matches no choice")


def run(ctx):
    choices = ctx.params.get("choices", CHOICES)
    outputs = []
    for index, seed in enumerate(ctx.seeds):
        seed_everything(seed)  # nothing here is random; the seeds show that
        outputs.append(printed_by(problem_code))
        ctx.progress(index + 1, len(ctx.seeds), f"seed {seed}")
    ctx.log(f"The snippet prints {outputs[0]} (the same in "
            f"{sum(o == outputs[0] for o in outputs)} of {len(outputs)} seeds).")
    trace: list[str] = []
    printed_by(lambda: problem_code(trace))
    ctx.log("\nTrace (the loop's variables at the end of each epoch):")
    ctx.log("\n".join(trace))
    stop, best_epoch = (int(v) for v in outputs[0].split())
    lowest = min(range(len(VAL_LOSS)), key=VAL_LOSS.__getitem__) + 1
    ctx.log(f"\nWhy: the counter `bad` counts epochs since the last improvement and is reset "
            f"to 0 whenever a new best appears. Epoch 5 ({VAL_LOSS[4]:.2f}) is one bad epoch, "
            f"but epoch 6 ({VAL_LOSS[5]:.2f}) is a new best and resets it; epochs 7 and 8 are "
            f"two more bad epochs, so the loop stops at epoch {stop}. The weights to keep are "
            f"from epoch {best_epoch}, the lowest validation loss seen (also the lowest of all "
            f"{len(VAL_LOSS)}: epoch {lowest}), not the ones at the stop.")
    answer = decide(outputs[0], choices)
    if len(set(outputs)) != 1:
        raise RuntimeError(f"the output changed with the seed: {outputs}")
    return {"answer": answer, "metrics": {
        "printed": outputs[0], "stop_epoch": stop, "best_epoch": best_epoch,
        "seeds": len(ctx.seeds)}}
