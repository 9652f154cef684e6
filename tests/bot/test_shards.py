"""Several bot processes, seen from one: the process runs shard 0 of 2 (an AutoShardedBot in
simcord), answers and times the challenges of its own servers, and posts scheduled runs in
any server, leaving their reveals to the servers' own processes."""

from __future__ import annotations

from dataclasses import replace

import discord
import pytest

from bot import app
from bot.app import ShardedTutorBot
from bot.shards import OwnedChallenges, Ownership, shard_of
from bot.store.owned import OwnedChallengeRepo
from bot.tasks import AnsweredCounter, DeadlineTimers
from bot.ui.posts import ChallengePoster
from tests.bot.test_restart import restart
from tests.bot.test_schedules import at, bot_posts


def test_a_server_belongs_to_the_shard_its_id_says():
    assert shard_of((5 << 22) | 4321, 4) == 1
    assert shard_of(81384788765712384, 1) == 0
    assert Ownership.of(None, None).owns(12345) and not Ownership.of(None, None).partial
    assert not Ownership.of(2, (1, 0)).partial  # every shard of 2, in one process
    ours = Ownership.of(4, (3, 1))
    assert ours.partial and ours.describe() == "shards 1,3 of 4"
    assert ours.owns(5 << 22) and not ours.owns(6 << 22)


@pytest.fixture
def config(config, monkeypatch):
    # simcord runs timers due within its settle timeout in real time: a sweep every 30 s
    # keeps each step of these tests instant (a deployment sweeps every few seconds).
    monkeypatch.setattr(app, "SWEEP_S", 30.0)
    return replace(config, shard_count=2, shard_ids=(0,))


class Server:
    """A study server in the given shard: a channel and an admin."""

    def __init__(self, env, shard: int) -> None:
        self.env = env
        self.guild = env.create_guild(f"Shard {shard} group", shard_id=shard)
        self.channel = self.guild.create_text_channel("quiz")
        mods = self.guild.create_role("Mods", permissions=discord.Permissions(manage_guild=True))
        self.admin = self.guild.add_member(env.create_user(f"admin{shard}"), roles=[mods])


@pytest.fixture
def ours(env) -> Server:
    return Server(env, 0)


@pytest.fixture
def theirs(env) -> Server:
    return Server(env, 1)


def elsewhere_poster(env) -> ChallengePoster:
    """The poster of the process that runs shard 1 (and leads): it posts in any server."""
    tutor, bot = env.bot.tutor, env.bot
    owned = OwnedChallenges(OwnedChallengeRepo(bot.store.db), Ownership.of(2, (1,)))
    return ChallengePoster(tutor.challenges, tutor.settings, tutor.clock,
                           DeadlineTimers(tutor.clock), AnsweredCounter(), bot.channel_for,
                           tutor.pacer, owned)


async def open_in(env, server: Server):
    tutor = env.bot.tutor
    problem = await tutor.challenges.choose_problem(server.guild.id)
    challenge = await tutor.challenges.start(
        guild_id=server.guild.id, channel_id=server.channel.id, starter_id=0, problem=problem,
        settings=await tutor.settings.of(server.guild.id), now=tutor.clock())
    return challenge, problem


async def test_the_process_answers_the_servers_of_its_shards(env, ours):
    assert isinstance(env.bot, ShardedTutorBot) and env.bot.shard_ids == [0]
    reply = await ours.admin.slash(ours.channel, "challenge")
    assert "Challenge posted" in reply.response.content and bot_posts(ours)
    assert env.bot.tutor.poster.timers.armed  # its reveal is timed here


async def test_a_challenge_opened_elsewhere_in_our_server_is_revealed_here(env, ours):
    challenge, problem = await open_in(env, ours)
    leader = elsewhere_poster(env)
    await leader.post(env.bot.channel_for(ours.channel.id, ours.guild.id), challenge, problem)
    assert not leader.timers.armed  # not its server: no timer there
    assert challenge.id not in env.bot.tutor.poster.timers.armed

    await env.advance_time(app.SWEEP_S + 1)  # our sweep finds it
    assert challenge.id in env.bot.tutor.poster.timers.armed
    await env.advance_time(challenge.deadline - env.bot.now() + 1)
    [post] = bot_posts(ours)
    assert post.embeds[1].title == "Answer revealed"
    await leader.close()


async def test_the_leader_posts_in_another_process_server_and_leaves_it_the_reveal(
        env, ours, theirs):
    learners = theirs.guild.create_role("Learners", mentionable=True)
    schedule = await env.bot.tutor.schedules.add(
        guild_id=theirs.guild.id, channel_id=theirs.channel.id, time_text="00:05",
        days_text=None, timezone="UTC", pack=None, difficulty=None, kind=None,
        ping_role_id=learners.id, created_by=theirs.admin.id)
    assert env.bot.get_guild(theirs.guild.id) is None  # not one of our shards' servers

    outcome = await env.bot.tutor.rhythm.run_schedule(schedule, at(env, "00:05"))

    assert outcome.code == "posted"
    [post] = bot_posts(theirs)
    assert post.content == f"<@&{learners.id}>"
    assert not env.bot.tutor.poster.timers.armed  # the owner of that server reveals it


async def test_a_restart_rearms_only_the_challenges_of_our_servers(env, ours, theirs,
                                                                   make_bot):
    mine, _ = await open_in(env, ours)
    await open_in(env, theirs)
    await restart(env, make_bot)
    assert env.bot.tutor.poster.timers.armed == {mine.id}
