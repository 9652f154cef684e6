"""Runs the problem's own code under CPU bfloat16 autocast and prints the dtypes it prints.

Then asks the same of a few more ops, and of the gradient after backward(), so the printout
shows the rule behind the answer: autocast picks a dtype per op; it never converts the model.
"""

from __future__ import annotations

import contextlib
import io

import torch
from torch import nn

from bot.worker.lab.env import seed_everything

# The problem's code, exactly as shown; run with exec so the two cannot drift apart.
SNIPPET = """\
import torch
from torch import nn

lin = nn.Linear(8, 4)
x = torch.randn(2, 8)
target = torch.tensor([0, 3])
with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
    logits = lin(x)
    loss = nn.functional.cross_entropy(logits, target)
print(logits.dtype, loss.dtype, lin.weight.dtype)
"""
CHOICES = {
    "A": "torch.bfloat16 torch.bfloat16 torch.bfloat16",
    "B": "torch.float32 torch.float32 torch.float32",
    "C": "torch.bfloat16 torch.float32 torch.float32",
    "D": "torch.bfloat16 torch.bfloat16 torch.float32",
}


def run_snippet(code: str = SNIPPET) -> tuple[str, dict]:
    """Executes the code; returns what it printed and its variables."""
    out, scope = io.StringIO(), {"__name__": "problem_code"}
    with contextlib.redirect_stdout(out):
        exec(compile(code, "<problem code>", "exec"), scope)  # noqa: S102
    return out.getvalue().strip(), scope


def more_ops(scope: dict) -> dict[str, str]:
    """Other ops' output dtypes in the same region, and the gradient's dtype afterwards."""
    lin, x, target = scope["lin"], scope["x"], scope["target"]
    short = {torch.float32: "float32", torch.bfloat16: "bfloat16"}
    with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
        logits = lin(x)
        found = {
            "x @ x.T (matmul)": (x @ x.T).dtype,
            "mse_loss(logits, ...)": nn.functional.mse_loss(logits, x[:, :4]).dtype,
            "logits + x[:, :4] (bf16 + fp32)": (logits + x[:, :4]).dtype,
            "logits.float()": logits.float().dtype,
        }
        loss = nn.functional.cross_entropy(logits, target)
    found["lin(x) outside autocast"] = lin(x).dtype
    lin.zero_grad()
    loss.backward()
    found["lin.weight.grad after backward()"] = lin.weight.grad.dtype
    return {k: short.get(v, str(v)) for k, v in found.items()}


def decide(printed: str, choices: dict[str, str] = CHOICES) -> str:
    """The letter whose text is what the code printed."""
    for letter, text in choices.items():
        if " ".join(printed.split()) == text:
            return letter
    raise ValueError(f"the code printed {printed!r}, which matches no choice")


def run(ctx):
    choices = ctx.params.get("choices", CHOICES)
    outputs, scope = [], {}
    for index, seed in enumerate(ctx.seeds):
        seed_everything(seed)  # changes the values of x and the weights; dtypes cannot change
        printed, scope = run_snippet()
        outputs.append(printed)
        ctx.progress(index + 1, len(ctx.seeds), f"seed {seed}")
    printed = outputs[0]
    same = sum(o == printed for o in outputs)
    ctx.log(f"The problem's code prints: {printed}")
    ctx.log(f"(the same in {same} of {len(outputs)} seeds: values change with the seed, "
            "dtypes do not)")
    ctx.log("\nOther results in the same bfloat16 autocast region on the CPU:")
    extra = more_ops(scope)
    for name, dtype in extra.items():
        ctx.log(f"  {name}: {dtype}")
    answer = decide(printed, choices)
    if same != len(outputs):
        raise RuntimeError(f"the printout changed with the seed: {outputs}")
    ctx.log("\nWhy: autocast decides per op. Ops on its lower-precision list, like linear and "
            "matmul, cast their inputs to bfloat16 and return bfloat16. Ops on its float32 "
            "list, like cross_entropy and mse_loss, cast their inputs up and return float32. "
            "The parameters themselves are never converted: lin.weight stays float32 (the "
            "cast copy used by the op is temporary), so its gradient is float32 too. Adding a "
            "bfloat16 and a float32 tensor gives float32 by ordinary type promotion. (The op "
            "lists are in PyTorch's 'Autocast Op Reference'; CUDA's lists differ a little "
            "from the CPU's: general knowledge.)")
    return {"answer": answer, "metrics": {
        "printed": printed, "same_across_seeds": same, "grad_dtype":
        extra["lin.weight.grad after backward()"], "seeds": len(ctx.seeds)}}
