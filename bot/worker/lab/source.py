"""The stand-in for ImageNet pretraining: a small CNN trained on the generated source task.

The small-image experiments fine-tune it many times in seconds, which an ImageNet network
cannot do on a CPU. A checkpoint is named by a key derived from its recipe. tutorbot ships the
checkpoints of the recipes its experiments use (`checkpoints/`, made by
`python -m bot.worker.lab.source`), so a first run need not spend minutes pretraining; a
recipe without one is pretrained on first use and cached in the worker's cache folder. Fixed
seeds make a checkpoint the same on every machine of the same kind.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from bot.worker.lab.data import make_split
from bot.worker.lab.nets import SmallCNN, new_head
from bot.worker.lab.train import accuracy, train_steps

log = logging.getLogger(__name__)
SHIPPED_DIR = Path(__file__).resolve().parent / "checkpoints"
RECIPE_VERSION = 1  # bump when data.py or the recipe changes meaningfully


@dataclass(frozen=True)
class SourceRecipe:
    width: int = 16
    images: int = 8000
    steps: int = 800
    batch: int = 64
    lr: float = 3e-3
    image_size: int = 24
    seed: int = 0
    version: int = RECIPE_VERSION

    def key(self) -> str:
        blob = json.dumps(asdict(self), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


@dataclass(frozen=True)
class Pretrained:
    state: dict[str, torch.Tensor]
    source_accuracy: float
    made_now: bool
    seconds: float
    recipe: SourceRecipe
    shipped: bool = False

    def model(self, num_classes: int, device: str) -> SmallCNN:
        """A fresh copy with the pretrained backbone and a new random head."""
        model = SmallCNN(width=self.recipe.width)
        model.load_state_dict(self.state)
        new_head(model, num_classes)
        return model.to(device)

    def describe(self) -> str:
        how = (f"made now in {self.seconds:.1f} s" if self.made_now
               else "shipped with tutorbot" if self.shipped else "loaded from the cache")
        return (f"Pre-trained weights: a {self.recipe.width}-wide CNN pretrained on "
                f"{self.recipe.images:,} images of a generated source task (10 other shape "
                f"classes; {self.source_accuracy:.0%} accuracy there), {how}. "
                f"{why_stand_in(self.recipe.image_size)}")


def why_stand_in(image_size: int) -> str:
    """Why a stand-in is used, in one sentence that holds whether or not ImageNet weights
    are on disk: the reason is the experiment's size, not the weights' absence."""
    return ("It stands in for ImageNet pretraining because this experiment fine-tunes many "
            f"times in seconds on {image_size}x{image_size} generated images, which needs a "
            "network far smaller than any ImageNet model.")


Progress = Callable[[int, int], None]


def load_or_pretrain(cache_dir: Path, recipe: SourceRecipe, device: str,
                     progress: Progress | None = None) -> Pretrained:
    path = cache_dir / checkpoint_name(recipe)
    for found, shipped in ((path, False), (SHIPPED_DIR / checkpoint_name(recipe), True)):
        if found.is_file():
            saved = torch.load(found, map_location="cpu", weights_only=True)
            return Pretrained(saved["state"], float(saved["source_accuracy"]), False,
                              float(saved["seconds"]), recipe, shipped)
    started = time.perf_counter()
    state, acc = _pretrain(recipe, device, progress)
    seconds = time.perf_counter() - started
    _save_atomically(path, {"state": state, "source_accuracy": acc, "seconds": seconds,
                            "recipe": asdict(recipe)})
    log.info("pretrained source model %s in %.1f s", recipe.key(), seconds)
    return Pretrained(state, acc, True, seconds, recipe)


def checkpoint_name(recipe: SourceRecipe) -> str:
    return f"source-{recipe.key()}.pt"


def _pretrain(recipe: SourceRecipe, device: str,
              progress: Progress | None) -> tuple[dict[str, torch.Tensor], float]:
    torch.manual_seed(recipe.seed)
    train = make_split("source", recipe.images, seed=recipe.seed, size=recipe.image_size)
    val = make_split("source", 1000, seed=recipe.seed + 1, size=recipe.image_size)
    model = SmallCNN(width=recipe.width).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=recipe.lr)
    report = (lambda step, _acc: progress(step, recipe.steps)) if progress else None
    train_steps(model, optimizer, train, steps=recipe.steps, batch=recipe.batch, device=device,
                seed=recipe.seed, val=val, eval_every=max(1, recipe.steps // 8), on_eval=report)
    acc = accuracy(model, val, device)
    state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    return state, acc


def _save_atomically(path: Path, payload: dict) -> None:
    # Two runs may pretrain at once; each writes its own temp file and the rename is atomic.
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)


def make_shipped(recipes: list[SourceRecipe], folder: Path = SHIPPED_DIR) -> None:
    """Pretrains each recipe on the CPU into `folder`, replacing what is there."""
    from bot.worker.lab.env import configure

    configure("cpu")
    for stale in folder.glob("source-*.pt"):
        stale.unlink()
    for recipe in recipes:
        started = time.perf_counter()
        state, acc = _pretrain(recipe, "cpu", None)
        seconds = time.perf_counter() - started
        _save_atomically(folder / checkpoint_name(recipe),
                         {"state": state, "source_accuracy": acc, "seconds": seconds,
                          "recipe": asdict(recipe)})
        print(f"{checkpoint_name(recipe)}: width {recipe.width}, {recipe.steps} steps, "
              f"{acc:.1%} on the source task, {seconds:.0f} s")


if __name__ == "__main__":
    import importlib

    make_shipped(list(importlib.import_module("bot.worker.lab.finetune").RECIPES))
