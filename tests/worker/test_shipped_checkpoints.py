"""The stand-in checkpoints tutorbot ships: one per recipe the experiments use, up to date.

A recipe change gives a new key, so a stale checkpoint is simply not found; these tests make
that a failure here rather than minutes of pretraining on a member's first Why? press.
"""

from __future__ import annotations

from dataclasses import asdict

import pytest
import torch

from bot.worker.lab.finetune import RECIPES
from bot.worker.lab.source import SHIPPED_DIR, SourceRecipe, checkpoint_name, load_or_pretrain


@pytest.mark.parametrize("recipe", RECIPES, ids=lambda r: f"width-{r.width}")
def test_every_recipe_in_use_has_a_shipped_checkpoint_of_that_recipe(recipe: SourceRecipe):
    path = SHIPPED_DIR / checkpoint_name(recipe)
    assert path.is_file(), f"run `python -m bot.worker.lab.source` to make {path.name}"
    saved = torch.load(path, map_location="cpu", weights_only=True)
    assert saved["recipe"] == asdict(recipe)
    assert saved["source_accuracy"] > 0.5  # it learned the source task (10 classes)


def test_only_checkpoints_in_use_are_shipped():
    assert {p.name for p in SHIPPED_DIR.glob("*.pt")} == {checkpoint_name(r) for r in RECIPES}


def test_an_empty_cache_loads_the_shipped_checkpoint_without_pretraining(tmp_path):
    recipe = RECIPES[0]
    pre = load_or_pretrain(tmp_path, recipe, "cpu")
    assert (pre.shipped, pre.made_now) == (True, False)
    assert "shipped with tutorbot" in pre.describe()
    model = pre.model(num_classes=3, device="cpu")
    assert model.fc.out_features == 3
    assert list(tmp_path.iterdir()) == []  # nothing written: the shipped file is read in place


def test_a_recipe_without_a_shipped_checkpoint_is_pretrained_and_cached(tmp_path):
    tiny = SourceRecipe(width=4, images=64, steps=2, batch=16)
    made = load_or_pretrain(tmp_path, tiny, "cpu")
    assert (made.shipped, made.made_now) == (False, True)
    again = load_or_pretrain(tmp_path, tiny, "cpu")
    assert (again.shipped, again.made_now) == (False, False)
    assert "loaded from the cache" in again.describe()
