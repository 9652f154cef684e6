"""`tutorbot demo`: the real bot inside simcord's in-memory Discord, with a preview page.

One person in a browser sees a whole round: a study server, a channel, and simulated
classmates who answer each challenge after some seconds with a plausible spread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

import discord

from bot.app import TutorBot, create_bot
from bot.config import Config

log = logging.getLogger(__name__)

# Simulated classmates: (name, chance of knowing the answer).
DEMO_SCHEDULE_AT = "00:03"  # the simulated clock starts at 00:00 UTC
CLASSMATES = (("ada", 0.85), ("grace", 0.7), ("alan", 0.55), ("feifei", 0.75), ("yann", 0.4))


async def retry(operation: Callable[..., Awaitable[Any]], *args: Any, **kwargs: Any) -> Any:
    """simcord runs one operation at a time; the page's own actions may hold the turn."""
    from simcord import SetupError

    while True:
        try:
            return await operation(*args, **kwargs)
        except SetupError as exc:
            if "overlaps" not in str(exc):
                raise
            await asyncio.sleep(0.05)


class Classmates:
    """Answers every new challenge the way a study group might: most right, some not."""

    def __init__(self, bot: TutorBot, members: list[tuple[Any, float]], speed: float,
                 rng: random.Random) -> None:
        self.bot, self.members = bot, members
        self.speed, self.rng = speed, rng
        self.seen: set[int] = set()
        self.tasks: list[asyncio.Task[None]] = []

    async def notice(self, channel: Any) -> None:
        for challenge in await self.bot.tutor.challenges.open_challenges():
            if challenge.id in self.seen or challenge.message_id is None:
                continue
            self.seen.add(challenge.id)
            for member, skill in self.members:
                self.tasks.append(asyncio.create_task(
                    self.answer(member, skill, challenge, channel)))

    async def answer(self, member: Any, skill: float, challenge: Any, channel: Any) -> None:
        await asyncio.sleep(self.rng.uniform(4, 40) / self.speed)  # reading time
        knows = self.rng.random() < skill
        wrong = [c for c in challenge.letters if c != challenge.answer]
        pick = challenge.answer if knows else self.rng.choice(wrong)
        message = next(m for m in channel.history() if m.id == challenge.message_id)
        await retry(member.click, message, custom_id=f"tutor:answer:{challenge.id}:{pick}")
        if not knows and self.rng.random() < 0.6:  # a second try, after a think
            await asyncio.sleep(self.rng.uniform(5, 20) / self.speed)
            second = challenge.answer if self.rng.random() < skill else self.rng.choice(wrong)
            await retry(member.click, message, custom_id=f"tutor:answer:{challenge.id}:{second}")

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


@contextlib.contextmanager
def scheduler_on_simulated_clock() -> Iterator[None]:
    """APScheduler reads datetime.now() for when a job is due; in the simulation the bot's
    clock is simcord's, so the scheduler is pointed at that clock too (demo and tests only:
    on Discord both read the same wall clock)."""
    import apscheduler.schedulers.base as base

    class SimulatedClock(datetime):
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> Any:
            return discord.utils.utcnow().astimezone(tz)

    real, base.datetime = base.datetime, SimulatedClock
    try:
        yield
    finally:
        base.datetime = real


async def add_demo_schedule(channel: Any, organiser: Any) -> None:
    """A schedule three simulated minutes in, added as an organiser would, so the demo shows
    a challenge that posts itself."""
    await retry(organiser.slash, channel, "schedule add", channel=channel,
                time=DEMO_SCHEDULE_AT, days="every day", timezone="UTC")


def page_state(channel: Any) -> tuple[int, ...]:
    messages = channel.history()
    return (len(messages), *(hash(str(m.embeds[0].to_dict())) for m in messages if m.embeds))


async def run_demo(config: Config, *, speed: float = 1.0, rounds: int | None = None,
                   on_url: Callable[[str], None] = print, seed: int | None = None,
                   autostart: bool = True) -> int:
    """Runs until Ctrl-C, the page's End session, or `rounds` challenges revealed."""
    import simcord

    bot = create_bot(config)
    # A short settle_timeout keeps the bot's few-second timers on the simulated clock.
    with scheduler_on_simulated_clock():
        async with simcord.run(bot, strict_sync=True, settle_timeout=1.0) as env:
            guild = env.create_guild("PyTorch Study Group")
            channel = guild.create_text_channel("daily-challenge")
            admins = guild.create_role("Organisers",
                                       permissions=discord.Permissions(manage_guild=True))
            you = guild.add_member(env.create_user("you"), roles=[admins])
            classmates = [(guild.add_member(env.create_user(name)), skill)
                          for name, skill in CLASSMATES]
            await bot.tree.sync()
            await add_demo_schedule(channel, you)
            group = Classmates(bot, classmates, speed, random.Random(seed))
            async with env.preview(channel, viewers=[you, *(m for m, _ in classmates)],
                                   layout="channel", port=config.demo_port or None) as preview:
                on_url(preview.url)
                if autostart:  # the page opens on a live round rather than an empty channel
                    await retry(you.slash, channel, "challenge")
                try:
                    await drive(env, bot, preview, channel, group, speed, rounds)
                finally:
                    await group.close()
                    await bot.release()
    return 0


async def drive(env: Any, bot: TutorBot, preview: Any, channel: Any, group: Classmates,
                speed: float, rounds: int | None) -> None:
    """Moves the simulated clock with real time, lets classmates play, refreshes the page."""
    closed = asyncio.ensure_future(preview.wait_closed())
    last_state: tuple[int, ...] = ()
    try:
        while not closed.done():
            await asyncio.sleep(0.25)
            await retry(env.advance_time, 0.25 * speed)
            await group.notice(channel)
            state = page_state(channel)
            if state != last_state:  # posts from timers show without a manual refresh
                last_state = state
                await retry(preview.refresh)
            if rounds is not None and await bot.tutor.challenges.closed_count() >= rounds:
                await asyncio.sleep(0.5)
                return
    finally:
        closed.cancel()


def main(config: Config, speed: float, rounds: int | None) -> int:
    try:
        import simcord  # noqa: F401
    except ImportError:
        print("The demo needs simcord's preview: pip install 'simcord[preview]==3.2.1' "
              "(or `make run`, which installs it).")
        return 1
    with tempfile.TemporaryDirectory(prefix="tutorbot-demo-") as folder:
        demo_config = replace(config, database_path=Path(folder) / "demo.db")

        def announce(url: str) -> None:
            print(f"tutorbot demo: open {url} in your browser.\n"
                  "A challenge is already running and five classmates answer it within a "
                  "minute, and a scheduled one posts itself at 00:03 (/schedule list).\n"
                  "Try /challenge, /leaderboard, /profile and /badges in the page, "
                  "and Why? (run it) after the reveal.\nPress Ctrl-C to stop.", flush=True)

        try:
            return asyncio.run(run_demo(demo_config, speed=speed, rounds=rounds,
                                        on_url=announce))
        except KeyboardInterrupt:
            print("\ntutorbot demo stopped.")
            return 0
