"""Reading the bot's posts in tests."""

from __future__ import annotations

import asyncio
import sqlite3


def buttons(message) -> list:
    return [c for row in message.components for c in row.children]


def challenge_id(message) -> int:
    return int(buttons(message)[0].custom_id.split(":")[2])


def answer_id(message, letter: str) -> str:
    return f"tutor:answer:{challenge_id(message)}:{letter}"


async def key_of(env, message) -> str:
    return (await env.bot.tutor.challenges.get(challenge_id(message))).answer


def wrong(key: str) -> str:
    return "A" if key != "A" else "B"


def points_in_db(db_path, guild_id: int) -> dict[int, int]:
    with sqlite3.connect(db_path) as conn:
        return dict(conn.execute("SELECT member_id, points FROM members WHERE guild_id = ?",
                                 (guild_id,)).fetchall())


async def revealed_why_button(env, room, kind: str) -> str:
    """Posts a challenge of this kind, stops it, and returns its Why? button's custom id.

    Explanation runs are child processes, outside simcord's clock: the bot awaits them
    through simcord's external_wait, as it would await anything outside Discord.
    """
    env.bot.tutor.wait_external = lambda run: env.external_wait(
        run, reason="experiment child process")
    await room.admin.slash(room.channel, "challenge", kind=kind)
    await room.admin.slash(room.channel, "challenge-stop")
    return next(b.custom_id for b in buttons(room.post()) if b.label == "Why? (run it)")


async def until_answered(env, result, done, seconds: float = 60.0):
    """Waits (in real time) for a deferred reply to satisfy `done`, then lets the bot settle."""
    for _ in range(int(seconds * 10)):
        if result.response is not None and done(result.response):
            break
        await asyncio.sleep(0.1)
    await env.settle()
    return result.response
