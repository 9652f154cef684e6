"""Typed settings from the environment (and a .env file in the working folder, if present).

SETTINGS is the one source of every setting's name, default and rule: Config's defaults are
read from it, the README's table is checked against it. A bad value is refused with one short
line naming the variable, echoing the value clipped and escaped, and saying what is allowed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from bot.terminal import printable

ECHO_LIMIT = 40  # characters of a refused value shown back
PATH_LIMIT = 1024  # characters in a path setting or argument
TOKEN_LIMIT = 200  # Discord tokens are about 70 characters
SNOWFLAKE_MAX = 2**64 - 1  # Discord ids are unsigned 64-bit integers


class ConfigError(ValueError):
    """A setting has a value the bot cannot use; the message names the variable."""


class Refused(ValueError):
    """Raised by a setting's parser; its message says what is allowed."""


def clip(value: str, limit: int = ECHO_LIMIT) -> str:
    """value quoted for one line of a message: escaped, at most limit characters, and its
    full length when clipped."""
    shown = printable(value)
    if len(shown) <= limit:
        return f"'{shown}'"
    return f"'{shown[:limit]}…' ({len(value)} characters)"


def path_value(raw: str) -> Path:
    """A path as a user may type it; the checks keep it printable in every message."""
    if len(raw) > PATH_LIMIT or not raw.isprintable():
        raise Refused(f"a path of at most {PATH_LIMIT} printable characters")
    return Path(raw)


def packaged_questions() -> Path:
    """The packs installed with tutorbot: the `questions` package (in a checkout, ./questions).

    A wheel installs it as a plain folder, so its resources are a filesystem path."""
    beside_bot = Path(__file__).resolve().parent.parent / "questions"
    try:
        root = resources.files("questions")
    except ModuleNotFoundError:  # installed without its packs: the pack check names this path
        return beside_bot
    return root if isinstance(root, Path) else beside_bot


def _questions(raw: str) -> Path:
    return path_value(raw) if raw else packaged_questions()


def _token(raw: str) -> str:
    if len(raw) > TOKEN_LIMIT or not re.fullmatch(r"[A-Za-z0-9._-]*", raw):
        raise Refused(f"the bare token (letters, digits, '.', '_' and '-'; at most "
                      f"{TOKEN_LIMIT} characters)")
    return raw


def _whole(low: int, high: int, what: str) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        # fullmatch on ASCII digits: int() would also take '1_0', ' 7' and '٣'.
        if not re.fullmatch(r"[0-9]{1,20}", raw) or not low <= int(raw) <= high:
            raise Refused(what)
        return int(raw)
    return parse


_snowflake = _whole(1, SNOWFLAKE_MAX,
                   "a Discord server id (a whole number from 1 to 2^64-1) or empty")


def _guild(raw: str) -> int | None:
    return _snowflake(raw) if raw else None


def _choice(*allowed: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        for value in allowed:
            if raw.lower() == value.lower():
                return value
        raise Refused(f"one of {', '.join(allowed)}")
    return parse


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    description: str
    parse: Callable[[str], Any]  # raises Refused saying what is allowed
    secret: bool = False  # never echoed back

    @property
    def attribute(self) -> str:
        return self.name.lower()

    def read(self, raw: str | None) -> Any:
        """The value of raw (unset or blank: the default), or ConfigError."""
        raw = (raw or "").strip() or self.default
        try:
            return self.parse(raw)
        except Refused as exc:
            shown = (f"; the value set ({len(raw)} characters) is not shown" if self.secret
                     else f", got {clip(raw)}")
            raise ConfigError(f"{self.name} must be {exc}{shown}") from None


SETTINGS: tuple[Setting, ...] = (
    Setting("DISCORD_TOKEN", "", "The bot's token from the Discord developer portal. Without it, "
            "`tutorbot` runs the offline demo.", _token, secret=True),
    Setting("DATABASE_PATH", "tutorbot.db", "SQLite file holding challenges, answers and scores.",
            path_value),
    Setting("DATABASE_SYNCHRONOUS", "FULL", "SQLite `synchronous` level: FULL survives power "
            "loss; NORMAL is faster and survives a crash of the bot.",
            _choice("OFF", "NORMAL", "FULL", "EXTRA")),
    Setting("QUESTIONS_PATH", "", "Folder of question packs (`<pack>/pack.yaml`); empty: the "
            "packs installed with tutorbot.", _questions),
    Setting("LOG_LEVEL", "INFO", "DEBUG, INFO, WARNING or ERROR.",
            _choice("DEBUG", "INFO", "WARNING", "ERROR")),
    Setting("DEV_GUILD_ID", "", "If set, `tutorbot sync` registers commands in this server "
            "only (instant) instead of globally: a server id, a whole number from 1 to 2^64-1.",
            _guild),
    Setting("WORKER_TIMEOUT_S", "120", "Time limit of one explanation run, in seconds: 1 to 3600.",
            _whole(1, 3600, "a whole number of seconds from 1 to 3600")),
    Setting("WORKER_MEMORY_MB", "4096",
            "Memory limit of one explanation run, in MB: 256 to 1048576.",
            _whole(256, 1_048_576, "a whole number of megabytes from 256 to 1048576")),
    Setting("WORKER_SIZE", "auto", "Experiment size: test, cpu or full (auto: full on a GPU, "
            "else cpu).", _choice("auto", "test", "cpu", "full")),
    Setting("WORKER_CACHE_DIR", ".cache/tutorbot",
            "Where the worker keeps pretrained checkpoints.", path_value),
    Setting("REST_RATE", "40", "Most REST requests per second the bot starts by itself (posts, "
            "edits, roles); interaction replies are exempt. Discord allows 50: 1 to 50.",
            _whole(1, 50, "a whole number of requests per second from 1 to 50")),
    Setting("SCHEDULE_GRACE_S", "900", "How late a scheduled run missed while the bot was down "
            "may still post once, in seconds: 0 to 86400.",
            _whole(0, 86400, "a whole number of seconds from 0 to 86400")),
    Setting("DEMO_PORT", "0", "Port of the demo's preview page on 127.0.0.1: 0 to 65535 (0: any "
            "free port).",
            _whole(0, 65535, "a port number from 0 to 65535 (0: any free port)")),
)


def _default(name: str) -> Any:
    setting = next(s for s in SETTINGS if s.name == name)
    return setting.read(None)


@dataclass(frozen=True)
class Config:
    # One field per setting, in the same order; each default is the setting's, parsed.
    discord_token: str = _default("DISCORD_TOKEN")
    database_path: Path = _default("DATABASE_PATH")
    database_synchronous: str = _default("DATABASE_SYNCHRONOUS")
    questions_path: Path = _default("QUESTIONS_PATH")
    log_level: str = _default("LOG_LEVEL")
    dev_guild_id: int | None = _default("DEV_GUILD_ID")
    worker_timeout_s: int = _default("WORKER_TIMEOUT_S")
    worker_memory_mb: int = _default("WORKER_MEMORY_MB")
    worker_size: str = _default("WORKER_SIZE")
    worker_cache_dir: Path = _default("WORKER_CACHE_DIR")
    rest_rate: int = _default("REST_RATE")
    schedule_grace_s: int = _default("SCHEDULE_GRACE_S")
    demo_port: int = _default("DEMO_PORT")

    @classmethod
    def from_env(cls, load_dotenv: bool = True) -> Config:
        if load_dotenv:
            from dotenv import load_dotenv as _load

            _load(Path.cwd() / ".env", override=False)  # the working folder's, as documented
        return cls(**{s.attribute: s.read(os.environ.get(s.name)) for s in SETTINGS})
