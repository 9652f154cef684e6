"""`tutorbot sync`: one clear line when Discord can't be reached, and no reveal while it runs."""

from __future__ import annotations

import dataclasses

import discord

from bot.app import create_bot
from bot.cli import run
from tests.bot.helpers import challenge_id

UNREACHABLE = "http://127.0.0.1:9/api/v10"  # the discard port: nothing listens there


def test_sync_without_discord_prints_one_clear_line(monkeypatch, config, capsys):
    monkeypatch.setattr(discord.http.Route, "BASE", UNREACHABLE)
    code = run.main_sync(dataclasses.replace(config, discord_token="not-a-real-token"))
    out, err = capsys.readouterr()
    assert code == 1
    assert out.splitlines() == [
        "Cannot reach Discord (127.0.0.1): check this machine's internet connection."]
    assert "Traceback" not in err


async def test_a_bot_started_for_sync_arms_no_timer_and_reveals_nothing(env, room, config):
    await room.admin.slash(room.channel, "challenge")
    cid = challenge_id(room.post())
    await env.bot.tutor.poster.timers.close()  # the bot goes down before the deadline
    await env.advance_time(300)  # the challenge is overdue now

    old = env.bot
    await env.restart_bot(create_bot(config, serve=False))  # what `tutorbot sync` builds
    await old.release()
    edits_before = sum(e.method == "PATCH" for e in env.http_requests)
    await env.advance_time(60)

    assert env.bot.tutor.poster.timers.armed == set()
    assert sum(e.method == "PATCH" for e in env.http_requests) == edits_before
    assert (await env.bot.tutor.challenges.get(cid)).revealed_at is None
    assert (await env.bot.sync_commands()).startswith("Registered")
