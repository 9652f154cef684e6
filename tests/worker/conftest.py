"""Fixtures for worker tests: fake experiment scripts and a shared pretrained-model cache."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

EXPERIMENTS = Path(__file__).resolve().parents[2] / "questions/pretrained-models/experiments"


@pytest.fixture
def write_script(tmp_path: Path) -> Callable[[str], Path]:
    """Writes a fake experiment script (dedented source) and returns its path."""
    def write(source: str, name: str = "fake.py") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(source))
        return path
    return write


@pytest.fixture(scope="session")
def lab_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache for the session, so the stand-in models are pretrained once per test run."""
    return tmp_path_factory.mktemp("lab-cache")
