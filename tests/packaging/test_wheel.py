"""`pip install .` gives a working tutorbot: the wheel carries the question packs.

The wheel is built from a copy of the sources (so the shared checkout gets no build/ folder and
no stale files from one), installed into a fresh venv, and run from a folder that holds no
packs. The fresh venv borrows the dependencies from the test venv through a .pth file with a
plain path line, which adds that site-packages but runs none of its .pth files, so the
checkout's editable install cannot leak in.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import time
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("pyproject.toml", "README.md", "bot", "cogs", "questions")


def run(*args: str | Path, **kwargs) -> subprocess.CompletedProcess[str]:
    kwargs.setdefault("timeout", 300)
    return subprocess.run([str(a) for a in args], capture_output=True, text=True,
                          encoding="utf-8", **kwargs)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("wheel")
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tmp / "src" / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            (tmp / "src").mkdir(exist_ok=True)
            shutil.copy(source, tmp / "src" / name)
    started = time.monotonic()
    built = run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                "--no-index", "-w", tmp / "dist", tmp / "src")
    assert built.returncode == 0, built.stdout + built.stderr
    print(f"wheel built in {time.monotonic() - started:.1f} s")
    [wheel] = (tmp / "dist").glob("tutorbot-*.whl")
    return wheel


@pytest.fixture(scope="module")
def fresh_venv(wheel, tmp_path_factory) -> Path:
    venv = tmp_path_factory.mktemp("venv") / "fresh"
    made = run(sys.executable, "-m", "venv", "--without-pip", venv)
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    installed = run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps",
                    "--no-index", wheel)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    site = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])")
                .stdout.strip())
    (site / "zz_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv


@pytest.fixture
def elsewhere(tmp_path) -> Path:
    """A working folder with no questions/ and no .env, away from the checkout."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    return folder


def clean_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "QUESTIONS_PATH", "DISCORD_TOKEN", "PYTHONHOME")}
    env.update(DATABASE_PATH=str(tmp_path / "play.db"), WORKER_CACHE_DIR=str(tmp_path / "cache"),
               PYTHONIOENCODING="utf-8", LOG_LEVEL="WARNING")
    return env


def test_the_wheel_carries_every_pack_and_experiment(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {path.relative_to(ROOT).as_posix() for pattern in
               ("questions/*/pack.yaml", "questions/*/experiments/*.py")
               for path in ROOT.glob(pattern)}
    assert shipped and shipped <= names, shipped - names
    assert "questions/__init__.py" in names
    assert any(n.startswith("bot/store/migrations/") and n.endswith(".sql") for n in names)
    assert not [n for n in names if n.startswith("tests/") or "__pycache__" in n]


def test_the_fresh_venv_imports_tutorbot_from_itself(fresh_venv, elsewhere, tmp_path):
    shown = run(fresh_venv / "bin" / "python", "-c",
                "import bot, questions; print(bot.__file__); print(questions.__file__)",
                cwd=elsewhere, env=clean_env(tmp_path))
    assert shown.returncode == 0, shown.stderr
    for line in shown.stdout.splitlines():
        assert Path(line).resolve().is_relative_to(fresh_venv.resolve()), line


def test_installed_tutorbot_plays_a_pack_from_another_folder(fresh_venv, elsewhere, tmp_path):
    started = time.monotonic()
    result = run(fresh_venv / "bin" / "tutorbot", "play", "--pack", "pretrained-models",
                 cwd=elsewhere, env=clean_env(tmp_path), input="D\nq\n", timeout=120)
    print(f"played in {time.monotonic() - started:.1f} s")

    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "✅ Correct! +" in result.stdout  # feedback for the first problem
    assert "\nAnswer: D. " in result.stdout
    assert "\nStopped." in result.stdout
    assert not (elsewhere / "questions").exists()


def test_installed_tutorbot_checks_its_own_packs(fresh_venv, elsewhere, tmp_path):
    result = run(fresh_venv / "bin" / "tutorbot", "questions", "check", cwd=elsewhere,
                 env=clean_env(tmp_path))

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].endswith("all valid")
