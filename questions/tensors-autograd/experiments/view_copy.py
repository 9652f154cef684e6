"""Runs the problem's own code: a view and a clone of the same tensor, each written to.

The snippet is executed exactly as the problem shows it, once per seed. Then the storage
each tensor points at is compared, which is what decides whether a write shows through.
"""

from __future__ import annotations

import contextlib
import io
import warnings

import torch

from bot.worker.lab.env import seed_everything

CODE = """\
import torch

a = torch.arange(6)
b = a.view(2, 3)
c = a.clone()
b[0, 0] = 100
c[1] = -1
print(a[0].item(), a[1].item())
"""

CHOICES = {"A": "100 1", "B": "0 1", "C": "100 -1", "D": "0 -1"}


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


def run(ctx):
    choices = ctx.params.get("choices", CHOICES)
    printed, _ = run_per_seed(ctx, CODE)

    a = torch.arange(6)
    b, c = a.view(2, 3), a.clone()
    shares_b = b.untyped_storage().data_ptr() == a.untyped_storage().data_ptr()
    shares_c = c.untyped_storage().data_ptr() == a.untyped_storage().data_ptr()
    ctx.log(f"Same storage as a: view {shares_b}, clone {shares_c}. "
            f"b._base is a: {b._base is a}; c._base: {c._base}.")
    t = a.view(2, 3).t()
    r = t.reshape(6)
    r_shares = r.untyped_storage().data_ptr() == a.untyped_storage().data_ptr()
    try:
        t.view(6)
        view_raises = False
    except RuntimeError:
        view_raises = True
    ctx.log(f"For comparison: a.view(2, 3).t() is contiguous: {t.is_contiguous()}; "
            f"reshape(6) of it shares a's storage: {r_shares}; view(6) of it raises: "
            f"{view_raises}.")
    if not shares_b or shares_c or r_shares or not view_raises:
        raise RuntimeError("storage sharing is not what the explanation below says")
    ctx.log("\nWhy: view() returns a new tensor header (shape, strides) over the *same* "
            f"memory (shared: {shares_b}), so b[0, 0] = 100 writes into a. clone() copies "
            f"the data into new memory (shared: {shares_c}), so c[1] = -1 leaves a alone. "
            "reshape() returns a view when the strides allow it and a copy otherwise, as the "
            f"transposed case shows (shared: {r_shares}); only view() guarantees sharing "
            "(on the transposed tensor it raises instead of copying).")
    answer = decide(printed, choices)
    return {"answer": answer, "metrics": {
        "printed": printed, "view_shares_storage": int(shares_b),
        "clone_shares_storage": int(shares_c), "reshape_of_transpose_shares": int(r_shares),
        "view_of_transpose_raises": int(view_raises),
        "seeds": len(ctx.seeds)}}
