"""`tutorbot run` and `tutorbot sync`: the bot on Discord."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

import aiohttp
import discord

from bot.app import create_bot
from bot.cli.services import UNREACHABLE, unreachable_line
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


async def sync_commands(config: Config) -> None:
    """Registers the slash commands: in DEV_GUILD_ID at once, or globally.

    The bot logs in with every command loaded but serves nothing: no reveal timer is armed,
    so no message is edited while commands are registered.
    """
    bot = create_bot(config, serve=False)
    async with bot:
        await bot.login(config.discord_token)
        print(await bot.sync_commands())


def on_discord(work: Callable[[], Coroutine[Any, Any, None]], config: Config) -> int:
    """Runs work against Discord; what can go wrong there is one clear line, not a trace."""
    try:
        asyncio.run(work())
    except discord.LoginFailure:
        print("Discord refused the token in DISCORD_TOKEN: copy it again from the developer "
              "portal (Bot → Reset Token).")
        return 1
    except (aiohttp.ClientConnectionError, TimeoutError) as exc:
        print(f"Cannot reach Discord ({unreachable(exc)}): check this machine's internet "
              "connection.")
        return 1
    except discord.HTTPException as exc:
        print(f"Discord refused the request: {exc.status} {exc.text[:200]}")
        return 1
    except UNREACHABLE as exc:  # the store or Redis, before anything was served
        print(unreachable_line(exc, config))
        return 1
    except KeyboardInterrupt:
        pass
    return 0


def unreachable(error: Exception) -> str:
    host = getattr(error, "host", None)
    return host if isinstance(host, str) else type(error).__name__


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
    return on_discord(lambda: run_on_discord(config), config)


def main_sync(config: Config) -> int:
    if not config.discord_token:
        print("Set DISCORD_TOKEN (in .env or the environment) to register commands.")
        return 1
    return on_discord(lambda: sync_commands(config), config)
