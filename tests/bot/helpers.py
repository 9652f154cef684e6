"""Reading the bot's posts in tests."""

from __future__ import annotations

import sqlite3


def buttons(message) -> list:
    return [c for row in message.components for c in row.children]


def challenge_id(message) -> int:
    return int(buttons(message)[0].custom_id.split(":")[2])


def answer_id(message, letter: str) -> str:
    return f"tutor:answer:{challenge_id(message)}:{letter}"


async def key_of(env, message) -> str:
    return (await env.bot.service.get(challenge_id(message))).answer


def wrong(key: str) -> str:
    return "A" if key != "A" else "B"


def points_in_db(db_path, guild_id: int) -> dict[int, int]:
    with sqlite3.connect(db_path) as conn:
        return dict(conn.execute("SELECT member_id, points FROM members WHERE guild_id = ?",
                                 (guild_id,)).fetchall())
