"""Runs the problem's own code: a second backward through part of a graph already used.

The snippet is executed exactly as the problem shows it, once per seed. Then it is run again
with retain_graph=True on the first backward, and x.grad is read between the two calls.
"""

from __future__ import annotations

import contextlib
import io
import warnings

import torch

from bot.worker.lab.env import seed_everything

CODE = """\
import torch

x = torch.tensor(2.0, requires_grad=True)
y = x ** 3
(2 * y).backward()
y.backward()
print(x.grad)
"""

CHOICES = {
    "A": "tensor(24.)",
    "B": "tensor(36.)",
    "C": "RuntimeError: Trying to backward through the graph a second time",
    "D": "tensor(12.)",
}


def execute(code: str) -> tuple[str, list[str]]:
    """Runs the snippet as a fresh module: what it printed (an uncaught error as
    `Type: message`, the way Python ends a traceback) and the warnings it raised."""
    out = io.StringIO()
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(out):
        warnings.simplefilter("always")
        try:
            exec(compile(code, "<problem>", "exec"), {"__name__": "__problem__"})
        except Exception as exc:  # the learner's choices include errors
            print(f"{type(exc).__name__}: {exc}")
    return out.getvalue().strip(), [str(w.message) for w in caught]


def run_per_seed(ctx, code: str) -> tuple[str, list[str]]:
    """Runs the snippet once per seed and logs what it printed; it draws no random numbers,
    so every seed must print the same."""
    outputs, caught = [], []
    for index, seed in enumerate(ctx.seeds):
        seed_everything(seed)
        printed, notes = execute(code)
        outputs.append(printed)
        caught.append(notes)
        ctx.progress(index + 1, len(ctx.seeds), f"seed {seed}")
    same = outputs.count(outputs[0])
    ctx.log(f"The snippet printed: {first_sentence(outputs[0])}")
    ctx.log(f"(the same in {same} of {len(ctx.seeds)} seeds)")
    if same != len(outputs):
        raise RuntimeError(f"the outputs differ between seeds: {outputs}")
    return outputs[0], caught[0]


def first_sentence(text: str) -> str:
    """An error message up to its first full stop or bracket: long enough to recognise."""
    marks = (text.find(". "), text.find(" ("), text.find(": ["))
    cut = min((i for i in marks if i > 0), default=len(text))
    return text[:cut]


def decide(printed: str, choices: dict[str, str] = CHOICES) -> str:
    """The letter whose text is what the code printed (an error matches by its start)."""
    for letter, text in choices.items():
        if printed == text:
            return letter
    for letter, text in choices.items():
        if text.split(":")[0].endswith("Error") and printed.startswith(text):
            return letter
    raise ValueError(f"printed {printed!r}, which matches no choice")


def variant(retain: bool) -> tuple[float, str]:
    """x.grad after the first backward, and what the second backward leads to."""
    x = torch.tensor(2.0, requires_grad=True)
    y = x ** 3
    (2 * y).backward(retain_graph=retain)
    first = x.grad.item()
    try:
        y.backward()
    except RuntimeError as exc:
        return first, first_sentence(f"RuntimeError: {exc}")
    return first, f"x.grad = {x.grad.item():g}"


def saved_before_and_after() -> tuple[str, bool, str]:
    """y's backward node, whether it holds x before the first backward, and what reading
    that saved x gives after it."""
    x = torch.tensor(2.0, requires_grad=True)
    y = x ** 3
    node, before = type(y.grad_fn).__name__, y.grad_fn._saved_self is x
    (2 * y).backward()
    try:
        _ = y.grad_fn._saved_self
    except RuntimeError as exc:
        return node, before, first_sentence(f"RuntimeError: {exc}")
    return node, before, "still there"


def run(ctx):
    choices = ctx.params.get("choices", CHOICES)
    printed, _ = run_per_seed(ctx, CODE)

    first, freed = variant(retain=False)
    _, retained = variant(retain=True)
    node, holds, after = saved_before_and_after()
    ctx.log(f"\ny.grad_fn ({node}) holds x before any backward: {holds}")
    ctx.log(f"reading that saved x after the first backward: {after}")
    ctx.log(f"x.grad after (2 * y).backward(): {first:g}")
    ctx.log(f"then y.backward(), as in the snippet: {freed}")
    ctx.log(f"then y.backward(), if the first call had retain_graph=True: {retained}")
    ctx.log("\nWhy: y = x ** 3 saves x for its backward (dy/dx = 3x^2). (2 * y).backward() "
            f"runs through that node (x.grad = 2 x 3 x 2^2 = {first:g}) and then frees what "
            "the nodes saved (to release memory, general knowledge). y.backward() needs the "
            "same node again, so it fails before print is reached. With retain_graph=True the "
            f"saved values stay, and the second call *adds* 3 x 2^2 = 12: {retained}.")
    answer = decide(printed, choices)
    return {"answer": answer, "metrics": {
        "printed": first_sentence(printed), "grad_after_first_backward": first,
        "saved_x_before_backward": int(holds), "saved_x_after_backward": after,
        "with_retain_graph": retained, "seeds": len(ctx.seeds)}}
