"""The real bot against simcord's in-memory Discord."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import discord
import pytest
import simcord

from bot.app import TutorBot, create_bot
from bot.config import Config

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def questions_path() -> Path:
    # The first pack: five problems, all with experiments, that these tests know by heart.
    # tests/bot/test_curriculum.py runs the bot on every shipped pack.
    return Path(os.environ.get("TUTORBOT_TEST_QUESTIONS", REPO / "questions" / "pretrained-models"))


@pytest.fixture
def config(tmp_path, questions_path) -> Config:
    return Config(database_path=tmp_path / "bot.db", questions_path=questions_path,
                  database_synchronous="NORMAL")


@pytest.fixture
async def make_bot(config):
    """Builds bots; each one is released after the test (simcord's own fixtures detach a bot
    without closing it, and an open bot would keep its threads and database)."""
    made: list[TutorBot] = []

    def make() -> TutorBot:
        bot = create_bot(config)
        made.append(bot)
        return bot
    yield make
    for bot in made:
        await bot.release()


@pytest.fixture
def simcord_bot(make_bot):
    """simcord's `simcord_env` fixture runs this bot; make_bot releases it afterwards."""
    return make_bot()


@pytest.fixture
async def env(make_bot):
    """A running env with commands synced. settle_timeout is short so the bot's few-second
    timers (the "N answered" edit) wait for advance_time instead of running in real time."""
    env = simcord.Env(make_bot(), settle_timeout=2.0)
    await env.start()
    await env.bot.tree.sync()
    try:
        yield env
    finally:
        await env.shutdown()
        await env.bot.release()
        env._raise_errors_since(env._errors_acknowledged)
    assert_each_interaction_answered_once(env)


def assert_each_interaction_answered_once(env: simcord.Env) -> None:
    """A second answer would fail on Discord (40060); a late one is an error simcord keeps."""
    callbacks = Counter(entry.path.split("/")[2] for entry in env.http_requests
                        if entry.method == "POST" and entry.path.startswith("/interactions/")
                        and entry.path.endswith("/callback"))
    twice = {interaction: n for interaction, n in callbacks.items() if n > 1}
    assert not twice, f"interactions answered more than once: {twice}"


class Room:
    """A study server: a channel, an admin and some members."""

    def __init__(self, env: simcord.Env, members: int = 3) -> None:
        self.env = env
        self.guild = env.create_guild("Study Group")
        self.channel = self.guild.create_text_channel("pytorch-quiz")
        admins = self.guild.create_role("Mods", permissions=discord.Permissions(manage_guild=True))
        self.admin = self.guild.add_member(env.create_user("ada"), roles=[admins])
        self.members = [self.guild.add_member(env.create_user(f"student{i}"))
                        for i in range(members)]

    def post(self) -> discord.Message:
        bot_id = self.env.bot.user.id
        return next(m for m in reversed(self.channel.history()) if m.author.id == bot_id)


@pytest.fixture
def room(env) -> Room:
    return Room(env)
