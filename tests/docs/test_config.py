"""Settings come from the environment; a bad value names its variable."""

from dataclasses import fields
from pathlib import Path

import pytest

from bot.config import SETTINGS, Config, ConfigError


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    for setting in SETTINGS:
        monkeypatch.delenv(setting.name, raising=False)
    monkeypatch.chdir(tmp_path)  # no .env here


def test_defaults_match_the_documented_table():
    config = Config.from_env()
    assert config.database_path == Path("tutorbot.db")
    assert config.database_synchronous == "FULL"
    assert config.worker_timeout_s == 120 and config.discord_token == ""


def test_a_dotenv_in_the_working_folder_is_read(tmp_path):
    (tmp_path / ".env").write_text("DATABASE_PATH=data/bot.db\nWORKER_SIZE=test\n")
    config = Config.from_env()
    assert config.database_path == Path("data/bot.db") and config.worker_size == "test"


@pytest.mark.parametrize("name, value", [("WORKER_TIMEOUT_S", "soon"), ("LOG_LEVEL", "loud"),
                                         ("DATABASE_SYNCHRONOUS", "maybe"),
                                         ("WORKER_SIZE", "huge")])
def test_a_bad_value_names_the_variable(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=name):
        Config.from_env()


# One source for the defaults: the SETTINGS table (which the README's table is checked against).


def test_every_config_field_is_a_setting_and_every_setting_a_field():
    assert [f.name for f in fields(Config)] == [s.name.lower() for s in SETTINGS]


def test_config_defaults_are_the_settings_defaults():
    assert Config() == Config.from_env()


def test_keyword_construction_keeps_the_other_defaults(tmp_path):
    config = Config(database_path=tmp_path / "t.db", questions_path=tmp_path,
                    database_synchronous="NORMAL")
    assert config.worker_timeout_s == Config().worker_timeout_s
    assert config.database_synchronous == "NORMAL"


def test_unset_questions_path_means_the_packs_installed_with_tutorbot():
    import questions

    assert Config.from_env().questions_path == Path(questions.__file__).parent
    assert sorted(Config().questions_path.glob("*/pack.yaml"))


@pytest.mark.parametrize("name", [s.name for s in SETTINGS])
def test_an_empty_value_means_the_default(monkeypatch, name):
    monkeypatch.setenv(name, "  ")
    assert Config.from_env() == Config()


# Every setting is refused clearly, in one short line, whatever the value.

LONG = "9" * 6000
BAD_VALUES = [
    ("WORKER_TIMEOUT_S", "soon"), ("WORKER_TIMEOUT_S", "0"), ("WORKER_TIMEOUT_S", "3601"),
    ("WORKER_TIMEOUT_S", "-5"), ("WORKER_TIMEOUT_S", "1e3"), ("WORKER_TIMEOUT_S", "\u0663"),
    ("WORKER_TIMEOUT_S", "1_0"), ("WORKER_TIMEOUT_S", LONG),
    ("WORKER_MEMORY_MB", "255"), ("WORKER_MEMORY_MB", "lots"), ("WORKER_MEMORY_MB", LONG),
    ("DEMO_PORT", "65536"), ("DEMO_PORT", "-1"), ("DEMO_PORT", "http"),
    ("DEV_GUILD_ID", "0"), ("DEV_GUILD_ID", "-3"), ("DEV_GUILD_ID", "my server"),
    ("DEV_GUILD_ID", str(2**64)), ("DEV_GUILD_ID", LONG),
    ("LOG_LEVEL", "loud"), ("LOG_LEVEL", "x" * 6000), ("LOG_LEVEL", "INFO\x1b[2J"),
    ("DATABASE_SYNCHRONOUS", "maybe"), ("WORKER_SIZE", "Huge\n\x07"),
    ("DATABASE_PATH", "x" * 6000), ("DATABASE_PATH", "data\x1b[31m.db"),
    ("QUESTIONS_PATH", "q" * 6000), ("QUESTIONS_PATH", "packs\u202e"),
    ("WORKER_CACHE_DIR", "cache\rdir"),
    ("DISCORD_TOKEN", "Bot abc.def"), ("DISCORD_TOKEN", "t" * 6000),
]


@pytest.mark.parametrize("name, value", BAD_VALUES, ids=lambda v: v[:20])
def test_a_bad_value_is_refused_in_one_short_clear_line(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as refused:
        Config.from_env()

    message = str(refused.value)
    assert message.startswith(f"{name} must be ")
    assert message.isprintable() and len(message) <= 180, message
    if len(value) > 40:
        assert value[:41] not in message  # the echo is clipped


def test_the_refusal_says_what_is_allowed_and_echoes_the_value(monkeypatch):
    monkeypatch.setenv("WORKER_TIMEOUT_S", "0")
    with pytest.raises(ConfigError, match=r"^WORKER_TIMEOUT_S must be a whole number of "
                       r"seconds from 1 to 3600, got '0'$"):
        Config.from_env()


def test_a_long_value_is_clipped_with_its_length(monkeypatch):
    monkeypatch.setenv("DEMO_PORT", LONG)
    with pytest.raises(ConfigError, match=r"got '9{40}…' \(6000 characters\)$"):
        Config.from_env()


def test_control_characters_are_shown_escaped_in_the_users_case(monkeypatch):
    monkeypatch.setenv("LOG_LEVEL", "Info\x1b[2J")
    with pytest.raises(ConfigError, match=r"got 'Info\\x1b\[2J'$"):
        Config.from_env()


def test_the_token_is_never_echoed(monkeypatch):
    monkeypatch.setenv("DISCORD_TOKEN", "MTIz secret.part")
    with pytest.raises(ConfigError) as refused:
        Config.from_env()
    assert "secret" not in str(refused.value) and "MTIz" not in str(refused.value)


@pytest.mark.parametrize("name, value, expected", [
    ("WORKER_TIMEOUT_S", "1", 1), ("WORKER_TIMEOUT_S", "3600", 3600),
    ("WORKER_MEMORY_MB", "256", 256), ("DEMO_PORT", "0", 0), ("DEMO_PORT", "65535", 65535),
    ("DEV_GUILD_ID", "123456789012345678", 123456789012345678),
    ("DEV_GUILD_ID", str(2**64 - 1), 2**64 - 1), ("LOG_LEVEL", "debug", "DEBUG"),
    ("DATABASE_SYNCHRONOUS", "normal", "NORMAL"), ("WORKER_SIZE", "CPU", "cpu"),
    ("DATABASE_PATH", "/data/tutor bot.db", Path("/data/tutor bot.db")),
    ("DISCORD_TOKEN", "MTIz.abc-def_ghi", "MTIz.abc-def_ghi"),
])
def test_a_good_value_is_read(monkeypatch, name, value, expected):
    monkeypatch.setenv(name, value)
    assert getattr(Config.from_env(), name.lower()) == expected
