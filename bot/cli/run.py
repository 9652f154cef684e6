"""`tutorbot run` and `tutorbot sync`: the bot on Discord."""

from __future__ import annotations

import asyncio
import logging

import aiohttp
import discord

from bot.app import create_bot
from bot.config import Config

log = logging.getLogger(__name__)

NO_TOKEN = """\
No DISCORD_TOKEN is set, so tutorbot starts its offline demo instead of joining Discord.
To run it on Discord: create an application at https://discord.com/developers/applications,
add a bot, copy its token into .env as DISCORD_TOKEN=..., invite it (see the README), then run
`tutorbot sync` once and `make run` again.
"""


async def run_on_discord(config: Config) -> None:
    bot = create_bot(config)
    async with bot:
        await bot.start(config.discord_token)


async def sync_commands(config: Config) -> int:
    """Registers the slash commands: in DEV_GUILD_ID at once, or globally."""
    bot = create_bot(config)
    async with bot:
        await bot.login(config.discord_token)
        print(await bot.sync_commands())
    return 0


def main_default(config: Config) -> int:
    """`tutorbot` alone: on Discord with a token, else the offline demo (and says which)."""
    if config.discord_token:
        return main_run(config)
    print(NO_TOKEN)
    from bot.cli import demo

    return demo.main(config, speed=1.0, rounds=None)


def main_run(config: Config) -> int:
    """`tutorbot run`: Discord only (what a server or a container runs)."""
    if not config.discord_token:
        print("tutorbot run needs DISCORD_TOKEN (in .env or the environment). Without one, "
              "`tutorbot demo` shows the bot in a simulated Discord.")
        return 1
    try:
        asyncio.run(run_on_discord(config))
    except discord.LoginFailure:
        print("Discord refused the token in DISCORD_TOKEN: copy it again from the developer "
              "portal (Bot → Reset Token).")
        return 1
    except aiohttp.ClientConnectorError as exc:
        print(f"Cannot reach Discord ({exc.host}): check this machine's internet connection.")
        return 1
    except KeyboardInterrupt:
        pass
    return 0


def main_sync(config: Config) -> int:
    if not config.discord_token:
        print("Set DISCORD_TOKEN (in .env or the environment) to register commands.")
        return 1
    return asyncio.run(sync_commands(config))
