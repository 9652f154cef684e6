"""Runs the problem's own code: int64 + float16, and float16 times a zero-dim float64.

The snippet is executed exactly as the problem shows it, once per seed. Then
`torch.result_type` is asked about neighbouring cases, to show which rule decided each dtype.
"""

from __future__ import annotations

import contextlib
import io
import warnings

import torch

from bot.worker.lab.env import seed_everything

CODE = """\
import torch

a = torch.tensor([1, 2, 3])                              # int64
b = torch.tensor([0.5, 0.5, 0.5], dtype=torch.float16)
s = torch.tensor(2.0, dtype=torch.float64)               # zero-dimensional
print((a + b).dtype, (b * s).dtype)
"""

CHOICES = {
    "A": "torch.float16 torch.float16",
    "B": "torch.float32 torch.float64",
    "C": "torch.float64 torch.float64",
    "D": "torch.float16 torch.float64",
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


def name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def run(ctx):
    choices = ctx.params.get("choices", CHOICES)
    printed, _ = run_per_seed(ctx, CODE)

    a = torch.tensor([1, 2, 3])
    b = torch.tensor([0.5, 0.5, 0.5], dtype=torch.float16)
    s = torch.tensor(2.0, dtype=torch.float64)
    s1 = torch.tensor([2.0], dtype=torch.float64)
    cases = {  # label: (metric key, result dtype)
        "int64 tensor + float16 tensor": ("int64_plus_f16", torch.result_type(a, b)),
        "float16 tensor * 0-dim float64": ("f16_times_0d_f64", torch.result_type(b, s)),
        "float16 tensor * 1-dim float64": ("f16_times_1d_f64", torch.result_type(b, s1)),
        "int64 tensor * 0-dim float64": ("int64_times_0d_f64", torch.result_type(a, s)),
        "int64 tensor * Python 2.5": ("int64_times_python_float", torch.result_type(a, 2.5)),
    }
    got = {label: name(dtype) for label, (_, dtype) in cases.items()}
    ctx.log("torch.result_type for related pairs:")
    for label, dtype in got.items():
        ctx.log(f"  {label:32s} -> {dtype}")
    ctx.log(f"(default float dtype: {name(torch.get_default_dtype())})")

    ctx.log("\nWhy: promotion (PyTorch's documented rule, general knowledge) first compares "
            "*categories* (bool < integer < floating < complex), and only within the "
            "winning category does it compare widths. "
            f"int64 + float16 -> {got['int64 tensor + float16 tensor']}: the float "
            "operand wins on category, and int64's 64 bits do not widen it. A zero-dim "
            "tensor (or Python number) only decides the dtype when its category is higher "
            "than every dimensioned operand's: float16 * 0-dim float64 -> "
            f"{got['float16 tensor * 0-dim float64']} (same category), but "
            f"int64 * 0-dim float64 -> {got['int64 tensor * 0-dim float64']}. "
            f"Make s one-dimensional and it counts fully: "
            f"{got['float16 tensor * 1-dim float64']}. A Python float has no width of its "
            "own: "
            f"int64 * 2.5 -> {got['int64 tensor * Python 2.5']}, the default float dtype.")
    answer = decide(printed, choices)
    return {"answer": answer, "metrics": {
        "printed": printed, **{key: name(d) for key, d in cases.values()},
        "seeds": len(ctx.seeds)}}
