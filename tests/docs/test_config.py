"""Settings come from the environment; a bad value names its variable."""

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
