"""Runs the problem's own code: an in-place add to a tensor that a later op saved.

The snippet is executed exactly as the problem shows it, once per seed. Then the version
counter autograd checks is read, and two neighbours are run: the same add done out of place,
and the same in-place add on a tensor no backward formula needs.
"""

from __future__ import annotations

import contextlib
import io
import warnings

import torch

from bot.worker.lab.env import seed_everything

CODE = """\
import torch

a = torch.tensor([1., 2., 3.], requires_grad=True)
b = a * 2
c = b ** 2
b.add_(1)
c.sum().backward()
print(a.grad)
"""

CHOICES = {
    "A": "tensor([ 8., 16., 24.])",
    "B": "tensor([12., 20., 28.])",
    "C": "RuntimeError: one of the variables needed for gradient computation has been "
         "modified by an inplace operation",
    "D": "RuntimeError: a leaf Variable that requires grad is being used in an in-place "
         "operation",
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


def versions() -> tuple[int, int, bool]:
    """b's version before and after add_, and whether c's backward node holds b itself."""
    a = torch.tensor([1., 2., 3.], requires_grad=True)
    b = a * 2
    holds = (b ** 2).grad_fn._saved_self is b
    before = b._version
    b.add_(1)
    return before, b._version, holds


def out_of_place() -> list[float]:
    a = torch.tensor([1., 2., 3.], requires_grad=True)
    b = a * 2
    c = b ** 2
    b = b + 1  # a new tensor; the one c saved is untouched
    c.sum().backward()
    return a.grad.tolist()


def unsaved() -> list[float]:
    a = torch.tensor([1., 2., 3.], requires_grad=True)
    b = a * 2
    d = b * 3  # multiplying by a constant needs only the constant, not b
    b.add_(1)
    d.sum().backward()
    return a.grad.tolist()


def stale_formula() -> list[float]:
    """What c's backward formula, 2b times b's own 2, gives if fed the changed b."""
    a = torch.tensor([1., 2., 3.])
    return (2 * (a * 2 + 1) * 2).tolist()


def numbers(values: list[float]) -> str:
    return "[" + ", ".join(f"{v:g}" for v in values) + "]"


def run(ctx):
    choices = ctx.params.get("choices", CHOICES)
    printed, _ = run_per_seed(ctx, CODE)

    before, after, holds = versions()
    kept, safe, stale = out_of_place(), unsaved(), stale_formula()
    ctx.log(f"\nc.grad_fn holds b itself (_saved_self is b): {holds}")
    ctx.log(f"b._version before b.add_(1): {before}, after: {after}")
    ctx.log(f"same add out of place (b = b + 1): a.grad = {numbers(kept)}")
    ctx.log(f"in-place add on b when only d = b * 3 uses it: a.grad = {numbers(safe)}")
    ctx.log("\nWhy: c = b ** 2 keeps a reference to b, because its gradient 2b needs b's "
            f"value. Every in-place op bumps a tensor's version ({before} -> {after}); at "
            "backward time autograd sees that the b it saved has changed and refuses, rather "
            f"than silently use b + 1 (the formula would then give {numbers(stale)}). Done out of "
            f"place, the gradient is the true d(sum 4a^2)/da = 8a = {numbers(kept)}. An "
            "in-place op is only a problem when a backward formula saved that tensor: with "
            f"d = b * 3 the same add_ is fine ({numbers(safe)}). The in-place op is on b, "
            "not on the leaf a, so the leaf error does not apply.")
    answer = decide(printed, choices)
    return {"answer": answer, "metrics": {
        "printed": first_sentence(printed)[:120], "pow_saves_b": int(holds),
        "version_before": before,
        "version_after": after, "grad_out_of_place": numbers(kept),
        "grad_unsaved_inplace": numbers(safe), "seeds": len(ctx.seeds)}}
