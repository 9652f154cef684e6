"""Click-to-acknowledgement latency of the real bot, driven through simcord.

    python bench/clicks.py [--members 200]

Measures, inside the bot, the time from receiving a click (INTERACTION_CREATE) to the
completed private reply, for 200 members clicking one post at once (a burst) and one after
another; and the bot process's memory after start-up.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


async def memory_after_start_up(folder: Path) -> float:
    """The bot's own start-up (packs, database, cogs, timers), without any test harness."""
    from bot.app import create_bot
    from bot.config import Config

    bot = create_bot(Config(database_path=folder / "mem.db", questions_path=ROOT / "questions"))
    await bot.setup_hook()
    gc.collect()
    used = rss_mb()
    await bot.release()
    return used


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class AckTimer:
    """Wraps the bot's reply so each click's receive-to-reply time is recorded."""

    def __init__(self) -> None:
        self.received: dict[int, float] = {}
        self.latencies: list[float] = []

    def install(self, bot) -> None:
        import discord

        timer = self
        original = discord.InteractionResponse.send_message

        async def timed_send(response, *args, **kwargs):
            result = await original(response, *args, **kwargs)
            started = timer.received.pop(response._parent.id, None)
            if started is not None:
                timer.latencies.append(time.perf_counter() - started)
            return result

        discord.InteractionResponse.send_message = timed_send

        @bot.listen("on_interaction")
        async def mark(interaction) -> None:
            timer.received[interaction.id] = time.perf_counter()


async def run(members: int, folder: Path) -> None:
    import discord
    import simcord

    from bot.app import create_bot
    from bot.config import Config
    from tests.bot.burst import burst_click

    config = Config(database_path=folder / "clicks.db", questions_path=ROOT / "questions",
                    database_synchronous="FULL")
    bot = create_bot(config)
    timer = AckTimer()
    timer.install(bot)
    async with simcord.run(bot, settle_timeout=2.0) as env:
        await bot.tree.sync()
        guild = env.create_guild("Bench")
        channel = guild.create_text_channel("quiz")
        admin = guild.add_member(env.create_user("admin"), roles=[guild.create_role(
            "Mods", permissions=discord.Permissions(manage_guild=True))])
        crowd = [guild.add_member(env.create_user(f"m{i}")) for i in range(members)]
        report = []
        for label, burst in (("at once (burst)", True), ("one after another", False)):
            await admin.slash(channel, "challenge")
            post = channel.history()[-1]
            cid = post.components[0].children[0].custom_id.split(":")[2]
            timer.latencies.clear()
            started = time.perf_counter()
            ids = [f"tutor:answer:{cid}:{'ABCD'[i % 4]}" for i in range(members)]
            if burst:
                await burst_click(env, crowd, post, lambda i, _, ids=ids: ids[i])
            else:
                for member, custom_id in zip(crowd, ids, strict=True):
                    await member.click(post, custom_id=custom_id)
            wall = time.perf_counter() - started
            lat = [x * 1000 for x in timer.latencies]
            report.append(f"{members} members clicking {label}: {len(lat)} acknowledged, "
                          f"p50 {percentile(lat, .5):.1f} ms, p99 {percentile(lat, .99):.1f} ms, "
                          f"max {max(lat):.1f} ms (wall {wall:.2f} s, target p99 < 100 ms)")
            await admin.slash(channel, "challenge-stop")
        await bot.release()
    print("\n".join(report))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=Path.cwd()) as tmp:
        memory = asyncio.run(memory_after_start_up(Path(tmp)))
        print(f"bot process RSS after start-up: {memory:.1f} MB (target < 100 MB); "
              f"torch imported: {'torch' in sys.modules}")
        asyncio.run(run(args.members, Path(tmp)))


if __name__ == "__main__":
    main()
