"""Runs the problem's own code: z = y.detach() * x with y = x * x, then z.backward().

The snippet is executed exactly as the problem shows it, once per seed. Then the same
product without detach, and the gradient each factor contributes, are measured.
"""

from __future__ import annotations

import contextlib
import io
import warnings

import torch

from bot.worker.lab.env import seed_everything

CODE = """\
import torch

x = torch.tensor(3.0, requires_grad=True)
y = x * x
z = y.detach() * x
z.backward()
print(x.grad)
"""

CHOICES = {
    "A": "tensor(27.)",
    "B": "tensor(9.)",
    "C": "tensor(6.)",
    "D": "RuntimeError: element 0 of tensors does not require grad and does not have a "
         "grad_fn",
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


def grad_of(detach: bool) -> tuple[float, bool, bool]:
    """x.grad, whether y.detach() requires grad, and whether it shares y's memory."""
    x = torch.tensor(3.0, requires_grad=True)
    y = x * x
    d = y.detach()
    z = (d if detach else y) * x
    z.backward()
    shares = d.untyped_storage().data_ptr() == y.untyped_storage().data_ptr()
    return x.grad.item(), d.requires_grad, shares


def run(ctx):
    choices = ctx.params.get("choices", CHOICES)
    printed, _ = run_per_seed(ctx, CODE)

    detached, d_requires, shares = grad_of(detach=True)
    full, _, _ = grad_of(detach=False)
    ctx.log(f"\nx.grad with y.detach(): {detached:g}; without detach (z = x^3): {full:g}")
    ctx.log(f"y.detach().requires_grad: {d_requires}; shares y's memory: {shares}")
    ctx.log("\nWhy: detach() returns the same values as a tensor cut out of the graph "
            f"(requires_grad {d_requires}), so autograd treats y as the constant "
            f"{detached:g}: z = {detached:g} * x, so dz/dx = {detached:g}. Without detach, "
            f"z = x^3 and dz/dx = 3x^2 = {full:g}: detach removed the path through y, which "
            f"would add 2x * x = {full - detached:g}. z still requires grad through its x "
            "factor, so backward() runs. Use detach for targets or statistics that must not "
            "be trained through (general knowledge).")
    answer = decide(printed, choices)
    return {"answer": answer, "metrics": {
        "printed": first_sentence(printed), "grad_detached": detached, "grad_full": full,
        "detached_requires_grad": int(d_requires), "detached_shares_memory": int(shares),
        "seeds": len(ctx.seeds)}}
