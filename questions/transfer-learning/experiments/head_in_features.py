"""Runs the problem's code as shown and prints what it printed: the input width of the final
layer of three torchvision models, each reached by its own attribute path.

`weights=None`: the layers' shapes, which is all the code reads, are the same with ImageNet
weights. Then each head is replaced for 10 classes and a forward pass checks the output.
"""

from __future__ import annotations

import contextlib
import io

import torch
from torch import nn

from bot.worker.lab.env import seed_everything

SNIPPET = """\
from torchvision import models

resnet = models.resnet50(weights=None)
effnet = models.efficientnet_b0(weights=None)
vit = models.vit_b_16(weights=None)
print(resnet.fc.in_features, effnet.classifier[-1].in_features, vit.heads.head.in_features)
"""
CHOICES = {"A": "512 1280 768", "B": "1000 1000 1000",
           "C": "AttributeError: 'VisionTransformer' object has no attribute 'heads'",
           "D": "2048 1280 768"}


def run_snippet(code: str) -> tuple[str, dict]:
    """Runs the code as shown: what it printed (or its error, as a traceback's last line
    reads) and its variables."""
    namespace: dict = {"__name__": "__problem__"}
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(code, "<problem code>", "exec"), namespace)  # noqa: S102
    except Exception as exc:  # noqa: BLE001 - an error is an output the choices may name
        return out.getvalue() + f"{type(exc).__name__}: {exc}", namespace
    return out.getvalue(), namespace


def decide(printed: str, choices: dict[str, str] = CHOICES) -> str:
    """The choice whose text is what the code printed; no match raises."""
    for letter, text in choices.items():
        if printed.strip() == text:
            return letter
    raise ValueError(f"the code printed {printed.strip()!r}, which matches no choice")


@torch.no_grad()
def replace_heads(ns: dict, device: str) -> dict[str, tuple[int, ...]]:
    """Each head swapped for a 10-class one, and the output shape of one image."""
    resnet, effnet, vit = ns["resnet"], ns["effnet"], ns["vit"]
    resnet.fc = nn.Linear(resnet.fc.in_features, 10)
    effnet.classifier[-1] = nn.Linear(effnet.classifier[-1].in_features, 10)
    vit.heads.head = nn.Linear(vit.heads.head.in_features, 10)
    shapes = {}
    for name, model, side in (("resnet", resnet, 64), ("effnet", effnet, 64), ("vit", vit, 224)):
        model.to(device).eval()
        shapes[name] = tuple(model(torch.randn(1, 3, side, side, device=device)).shape)
    return shapes


def run(ctx):
    choices = ctx.params.get("choices", CHOICES)
    # Shapes come from the architecture, never from the seed; building ViT-B/16 takes about
    # a second, so the smallest size runs the code once and the others once per seed.
    seeds = ctx.seeds[:1] if ctx.size == "test" else ctx.seeds
    outputs = []
    for index, seed in enumerate(seeds):
        seed_everything(seed)
        printed, ns = run_snippet(SNIPPET)
        outputs.append(printed.strip())
        ctx.progress(index + 1, len(seeds), f"seed {seed}")
    ctx.log(f"The code, run as shown with seed{'s' if len(seeds) > 1 else ''} {seeds}, "
            "printed: " + "; ".join(outputs))
    if len(set(outputs)) != 1:
        raise RuntimeError(f"the seeds disagree: {outputs}")
    answer = decide(outputs[0], choices)
    if answer == "D":
        outs = [ns["resnet"].fc.out_features, ns["effnet"].classifier[-1].out_features,
                ns["vit"].heads.head.out_features]
        ctx.log(f"Their out_features: {' '.join(map(str, outs))} (the ImageNet classes).")
        shapes = replace_heads(ns, ctx.device)
        ctx.log("Replaced for 10 classes, one image through each gives: " + ", ".join(
            f"{name} {shape}" for name, shape in shapes.items()))
    ctx.log("\nWhy: " + EXPLAIN.get(answer, f"the code printed {outputs[0]}."))
    return {"answer": answer, "metrics": {
        "printed": outputs[0], "runs": len(seeds), "seeds": len(ctx.seeds)}}


EXPLAIN = {
    "D": ("in_features is the width of the features each head receives, set by the body "
          "before it: ResNet50's last stage ends in 2048 channels (ResNet18/34 in 512), "
          "EfficientNet-B0's in 1280, and ViT-B/16's class token is 768 wide. The head's "
          "home differs per family: resnet.fc, effnet.classifier[-1] (classifier[0] is "
          "Dropout), vit.heads.head. Replace that layer with nn.Linear(in_features, "
          "num_classes) and the output has your classes (answer D)."),
}
