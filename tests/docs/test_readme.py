"""The README keeps its promises: every setting documented, the commands CI runs."""

import re
from pathlib import Path

from bot.config import SETTINGS

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_in_the_readme_table_with_its_default():
    for setting in SETTINGS:
        default = f"`{setting.default}`" if setting.default else "*(empty)*"
        assert f"| `{setting.name}` | {default} |" in README, setting.name


def test_ci_runs_the_readme_test_command():
    assert "make test" in README
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_env_example_names_only_known_settings():
    known = {s.name for s in SETTINGS}
    # and what docker-compose.yml itself reads from .env (the database password)
    known |= set(re.findall(r"\$\{(\w+)", (ROOT / "docker-compose.yml").read_text("utf-8")))
    lines = (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
    names = {line.lstrip("# ").split("=")[0] for line in lines if "=" in line}
    assert names <= known
