"""Pieces the fine-tuning experiments share: the pretrained model, optimisers, summaries."""

from __future__ import annotations

import statistics
from typing import Any

import torch
from torch import nn

from bot.worker.lab.nets import SmallCNN, backbone_params, freeze_backbone, head_params
from bot.worker.lab.source import Pretrained, SourceRecipe, load_or_pretrain

SMALL = SourceRecipe(width=16, steps=800)
LARGE = SourceRecipe(width=32, steps=800)  # 4x the parameters, the same pretraining steps
RECIPES = (SMALL, LARGE)  # the stand-ins tutorbot ships checkpoints of


def pretrained(ctx: Any, recipe: SourceRecipe = SMALL) -> Pretrained:
    """The cached stand-in model, pretraining it (with progress) on first use."""
    label = f"pretraining the {recipe.width}-wide source model (once, then cached)"
    return load_or_pretrain(ctx.cache_dir, recipe, ctx.device,
                            progress=lambda step, total: ctx.progress(step, total, label))


def scratch_model(width: int, num_classes: int, device: str) -> SmallCNN:
    return SmallCNN(num_classes=num_classes, width=width).to(device)


def layerwise_adamw(model: SmallCNN, backbone_lr: float, head_lr: float) -> torch.optim.Optimizer:
    """AdamW with one rate for the backbone and one for the head; a 0 rate freezes a part."""
    if backbone_lr == 0:
        freeze_backbone(model)
        return torch.optim.AdamW(head_params(model), lr=head_lr)
    groups = [{"params": list(backbone_params(model)), "lr": backbone_lr},
              {"params": list(head_params(model)), "lr": head_lr}]
    return torch.optim.AdamW(groups)


def frozen_parts(model: SmallCNN, backbone_lr: float) -> tuple[nn.Module, ...]:
    """Modules to keep in eval mode while training (frozen batch-norm statistics)."""
    return (model.backbone,) if backbone_lr == 0 else ()


def mean(values: list[float]) -> float:
    return statistics.fmean(values) if values else float("nan")


def pct(value: float) -> str:
    return f"{value:.0%}"


def per_seed(values: list[float]) -> str:
    return ", ".join(pct(v) for v in values)
