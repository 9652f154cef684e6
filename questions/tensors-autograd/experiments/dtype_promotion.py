"""Runs the problem's own code: int64 + float16, and float16 times a zero-dim float64.

The snippet is executed exactly as the problem shows it, once per seed. Then
`torch.result_type` is asked about neighbouring cases, to show which rule decided each dtype.
"""

from __future__ import annotations

import torch

from bot.worker.lab.snippet import match_choice, run_per_seed

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


def decide(printed: str, choices: dict[str, str] = CHOICES) -> str:
    """The letter whose text is what the code printed (an error matches by its start)."""
    return match_choice(printed, choices)


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
