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


def _url(schemes: tuple[str, ...], example: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if raw and (len(raw) > PATH_LIMIT or not raw.isprintable()
                    or not raw.startswith(tuple(f"{s}://" for s in schemes))):
            raise Refused(f"a URL like {example}, or empty")
        return raw
    return parse


_database_url = _url(("postgresql", "postgres"), "postgresql://user:password@host:5432/tutorbot")
_redis_url = _url(("redis", "rediss", "unix"), "redis://localhost:6379/0")
_count = _whole(1, 4096, "a whole number from 1 to 4096, or empty")


def _shard_count(raw: str) -> int | None:
    return _count(raw) if raw else None


def _shard_ids(raw: str) -> tuple[int, ...] | None:
    if not raw:
        return None
    if not re.fullmatch(r"[0-9]{1,4}( *, *[0-9]{1,4})*", raw):
        raise Refused("shard numbers separated by commas, like 0,1, or empty")
    ids = tuple(sorted({int(part) for part in raw.split(",")}))
    return ids


def _gpu_index(raw: str) -> int | None:
    return _whole(0, 63, "a GPU index from 0 to 63, or empty")(raw) if raw else None


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
    Setting("DATABASE_URL", "", "A `postgresql://user:password@host:port/db` URL: the store "
            "lives in PostgreSQL (what several bot processes share). Empty: the SQLite file at "
            "DATABASE_PATH.", _database_url, secret=True),
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
    Setting("EXPLAIN_BACKEND", "local", "Where explanation runs happen: local (child processes "
            "of the bot) or queue (`tutorbot worker` processes, through Redis at REDIS_URL).",
            _choice("local", "queue")),
    Setting("REDIS_URL", "", "A `redis://host:port/db` URL: the explanation queue "
            "(EXPLAIN_BACKEND=queue) and the REST budget that bot processes share. Empty: "
            "neither.", _redis_url, secret=True),
    Setting("SHARD_COUNT", "", "How many gateway shards the bot has in all, across every "
            "process: 1 to 4096. Empty: one gateway connection, without sharding (Discord "
            "requires shards from 2,500 servers).", _shard_count),
    Setting("SHARD_IDS", "", "The shards this process runs, comma-separated (`0,1`), each "
            "below SHARD_COUNT. Empty: all of them.", _shard_ids),
    Setting("WORKER_GPU", "", "`tutorbot worker`: the GPU index this worker owns (it sets "
            "CUDA_VISIBLE_DEVICES for its runs). Empty: the CPU, or whatever is visible.",
            _gpu_index),
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
    database_url: str = _default("DATABASE_URL")
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
    explain_backend: str = _default("EXPLAIN_BACKEND")
    redis_url: str = _default("REDIS_URL")
    shard_count: int | None = _default("SHARD_COUNT")
    shard_ids: tuple[int, ...] | None = _default("SHARD_IDS")
    worker_gpu: int | None = _default("WORKER_GPU")
    demo_port: int = _default("DEMO_PORT")

    @property
    def database(self) -> Path | str:
        """Where the store lives: the PostgreSQL URL if set, else the SQLite file."""
        return self.database_url or self.database_path

    @classmethod
    def from_env(cls, load_dotenv: bool = True) -> Config:
        if load_dotenv:
            from dotenv import load_dotenv as _load

            _load(Path.cwd() / ".env", override=False)  # the working folder's, as documented
        config = cls(**{s.attribute: s.read(os.environ.get(s.name)) for s in SETTINGS})
        config.check()
        return config

    def check(self) -> None:
        """Rules between settings, each refused in one line naming them."""
        if self.shard_ids is not None and self.shard_count is None:
            raise ConfigError("SHARD_IDS needs SHARD_COUNT: set how many shards there are in all")
        if self.shard_ids is not None and self.shard_count is not None:
            beyond = [i for i in self.shard_ids if i >= self.shard_count]
            if beyond:
                raise ConfigError(f"SHARD_IDS must be below SHARD_COUNT ({self.shard_count}), "
                                  f"got {', '.join(map(str, beyond))}")
        if (self.shard_ids is not None and self.shard_count is not None
                and set(self.shard_ids) != set(range(self.shard_count))
                and not self.database_url):
            raise ConfigError("SHARD_IDS naming some of the shards means several bot processes: "
                              "they need one shared database, set DATABASE_URL (PostgreSQL)")
        if self.explain_backend == "queue" and not self.redis_url:
            raise ConfigError("EXPLAIN_BACKEND=queue needs REDIS_URL: the queue lives in Redis")
