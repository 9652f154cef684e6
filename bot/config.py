"""Typed settings from the environment (and a .env file beside the bot, if present)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


class ConfigError(ValueError):
    """A setting has a value the bot cannot use; the message names the variable."""


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    description: str


SETTINGS: tuple[Setting, ...] = (
    Setting("DISCORD_TOKEN", "", "The bot's token from the Discord developer portal. Without it, "
            "`tutorbot` runs the offline demo."),
    Setting("DATABASE_PATH", "tutorbot.db", "SQLite file holding challenges, answers and scores."),
    Setting("DATABASE_SYNCHRONOUS", "FULL", "SQLite `synchronous` level: FULL survives power "
            "loss; NORMAL is faster and survives a crash of the bot."),
    Setting("QUESTIONS_PATH", "questions", "Folder of question packs (`<pack>/pack.yaml`)."),
    Setting("LOG_LEVEL", "INFO", "DEBUG, INFO, WARNING or ERROR."),
    Setting("DEV_GUILD_ID", "", "If set, `tutorbot sync` registers commands in this server "
            "only (instant) instead of globally."),
    Setting("WORKER_TIMEOUT_S", "120", "Time limit of one explanation run, in seconds."),
    Setting("WORKER_MEMORY_MB", "4096", "Memory limit of one explanation run."),
    Setting("WORKER_SIZE", "auto", "Experiment size: test, cpu or full (auto: full on a GPU, "
            "else cpu)."),
    Setting("WORKER_CACHE_DIR", ".cache/tutorbot",
            "Where the worker keeps pretrained checkpoints."),
    Setting("DEMO_PORT", "0", "Port of the demo's preview page on 127.0.0.1 (0: any free port)."),
)


def _env(name: str) -> str:
    default = next(s.default for s in SETTINGS if s.name == name)
    return os.environ.get(name, default).strip()


def _int(name: str) -> int:
    raw = _env(name)
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None


def _choice(name: str, allowed: tuple[str, ...]) -> str:
    raw = _env(name).lower()
    if raw not in allowed:
        raise ConfigError(f"{name} must be one of {', '.join(allowed)}, got {raw!r}")
    return raw


@dataclass(frozen=True)
class Config:
    discord_token: str = ""
    database_path: Path = Path("tutorbot.db")
    database_synchronous: str = "FULL"
    questions_path: Path = Path("questions")
    log_level: str = "INFO"
    dev_guild_id: int | None = None
    worker_timeout_s: int = 120
    worker_memory_mb: int = 4096
    worker_size: str = "auto"
    worker_cache_dir: Path = field(default=Path(".cache/tutorbot"))
    demo_port: int = 0

    @classmethod
    def from_env(cls, load_dotenv: bool = True) -> Config:
        if load_dotenv:
            from dotenv import load_dotenv as _load

            _load(Path.cwd() / ".env", override=False)  # the working folder's, as documented
        synchronous = _choice("DATABASE_SYNCHRONOUS", ("off", "normal", "full", "extra")).upper()
        return cls(
            discord_token=_env("DISCORD_TOKEN"),
            database_path=Path(_env("DATABASE_PATH")),
            database_synchronous=synchronous,
            questions_path=Path(_env("QUESTIONS_PATH")),
            log_level=_choice("LOG_LEVEL", ("debug", "info", "warning", "error")).upper(),
            dev_guild_id=_int("DEV_GUILD_ID") if _env("DEV_GUILD_ID") else None,
            worker_timeout_s=_int("WORKER_TIMEOUT_S"),
            worker_memory_mb=_int("WORKER_MEMORY_MB"),
            worker_size=_choice("WORKER_SIZE", ("auto", "test", "cpu", "full")),
            worker_cache_dir=Path(_env("WORKER_CACHE_DIR")),
            demo_port=_int("DEMO_PORT"),
        )
