from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The folder holding bot/ and questions/, found from this file."""
    root = Path(__file__).resolve().parents[2]
    assert (root / "bot" / "__main__.py").is_file()
    return root


@pytest.fixture
def bot_env(tmp_path) -> dict[str, str]:
    """The environment of a `python -m bot` run: tmp questions and database, UTF-8 output."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISCORD_TOKEN", "PYTHONPATH")}
    env.update(QUESTIONS_PATH=str(tmp_path / "questions"), DATABASE_PATH=str(tmp_path / "t.db"),
               PYTHONIOENCODING="utf-8", LOG_LEVEL="WARNING")
    return env


@pytest.fixture
def run_bot(repo_root, bot_env):
    """Runs `python -m bot ARGS...` in the repo root (or cwd); returns the CompletedProcess."""

    def run(*args: str, stdin: str = "", env: dict[str, str] | None = None,
            timeout: float = 30, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot", *args], cwd=cwd or repo_root, env=env or bot_env,
            input=stdin, capture_output=True, text=True, encoding="utf-8", timeout=timeout)

    return run
