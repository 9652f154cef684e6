"""Seeding, determinism and thread settings, shared by every experiment."""

from __future__ import annotations

import contextlib
import os
import random
from collections.abc import Iterator

import torch


def configure(device: str, threads: int | None = None) -> None:
    """Makes runs repeatable and sized to the machine before any tensor work.

    `threads` caps torch's CPU threads, for children that share the machine's cores."""
    # cuBLAS needs this set before its first use to be deterministic; the runner sets it too.
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.backends.cudnn.benchmark = False
    torch.use_deterministic_algorithms(True, warn_only=True)
    if device == "cpu":
        # One thread unless told otherwise: these networks are tiny, and on a busy 2-core
        # machine a second thread made their steps 25-80x slower in the pack authors' runs.
        torch.set_num_threads(threads or 1)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    torch.manual_seed(seed)


@contextlib.contextmanager
def one_thread(device: str = "cpu") -> Iterator[None]:
    """One CPU thread for a block, then the setting restored: the experiments' tensors are so
    small that a second thread only adds hand-offs, which cost most on a busy machine (a
    batch child may have been given more threads for its lane)."""
    before = torch.get_num_threads()
    if device == "cpu":
        torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)
