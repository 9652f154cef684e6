"""A badge-run step, click to the next problem: latency inside the bot, through simcord.

    python bench/study.py [--members 50] [--rounds 2]

`--members` members each take `/badge-run` of the first pack `--rounds` times. Every step is
two clicks: an answer (the attempt stored with its observers, review and item analysis, in
one transaction on a SQLite file with synchronous=FULL, then the result rendered) and
**Next problem** (the next problem shown, its timer started). Each click is timed from its
receipt (INTERACTION_CREATE) to the completed reply (the message edited in place), inside
the bot, as bench/clicks.py times answers. One click at a time (simcord runs one operation
at a time; bench/clicks.py measures a crowd clicking at once). Target: p99 at most 50 ms.

Between runs simcord's clock moves 15 minutes so the tokens of finished interactions expire:
simcord scans a timer per live token at every settle, which grows with every click (without
the move: p50 17 ms, p99 53 ms after 1,000 clicks, rising from 5 ms; cProfile puts 80% of the
time in simcord's settlement).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.clicks import percentile  # noqa: E402

TARGET_MS = 50.0
TOKEN_LIFETIME_S = 15 * 60 + 1


class EditTimer:
    """Receipt to completed reply for clicks answered by editing their message."""

    def __init__(self) -> None:
        self.received: dict[int, float] = {}
        self.latencies: dict[str, list[float]] = {"answer": [], "next": []}

    def install(self, bot) -> None:
        import discord

        timer, original = self, discord.InteractionResponse.edit_message

        async def timed_edit(response, *args, **kwargs):
            result = await original(response, *args, **kwargs)
            interaction = response._parent
            started = timer.received.pop(interaction.id, None)
            if started is not None:
                kind = "next" if interaction.data["custom_id"].startswith("tutor:runnext:") \
                    else "answer"
                timer.latencies[kind].append((time.perf_counter() - started) * 1000)
            return result

        discord.InteractionResponse.edit_message = timed_edit

        @bot.listen("on_interaction")
        async def mark(interaction) -> None:
            timer.received[interaction.id] = time.perf_counter()


def custom_id(message, prefix: str, label: str | None = None) -> str:
    return next(c["custom_id"] for row in message.components for c in row["components"]
                if c.get("custom_id", "").startswith(prefix)
                and (label is None or c.get("label") == label))


async def one_run(env, member, channel, pack: str, keys: dict[str, str]) -> None:
    """A whole badge run: answer each problem (right), then press Next."""
    message = (await member.slash(channel, "badge-run", pack=pack)).response
    for _ in range(len(keys)):
        title = message.embeds[0].title
        message = (await member.click(message, custom_id=custom_id(
            message, "tutor:run:", keys[title]))).response
        message = (await member.click(message, custom_id=custom_id(
            message, "tutor:runnext:"))).response


def spread(values: list[float]) -> str:
    return (f"{len(values)} clicks: p50 {percentile(values, .5):.1f} ms, "
            f"p99 {percentile(values, .99):.1f} ms, max {max(values):.1f} ms")


async def run(members: int, rounds: int, folder: Path) -> list[str]:
    import simcord

    from bot.app import create_bot
    from bot.config import Config

    bot = create_bot(Config(database_path=folder / "study.db", questions_path=ROOT / "questions",
                            database_synchronous="FULL", rest_rate=100_000))
    timer = EditTimer()
    timer.install(bot)
    lines = []
    async with simcord.run(bot, settle_timeout=5.0) as env:
        await bot.tree.sync()
        guild = env.create_guild("Bench")
        channel = guild.create_text_channel("study")
        crowd = [guild.add_member(env.create_user(f"m{i}")) for i in range(members)]
        pack = next(iter(bot.tutor.bank.packs.values()))
        keys = {p.title: p.answer for p in pack.problems}
        began = time.perf_counter()
        for _ in range(rounds):
            for member in crowd:
                await one_run(env, member, channel, pack.id, keys)
                # simcord keeps a timer per interaction token (15 minutes) and scans them all
                # at every settle, a cost that grows with each click and is simcord's, not
                # the bot's: let the tokens of finished runs expire between runs.
                await env.advance_time(TOKEN_LIFETIME_S)
        took = time.perf_counter() - began
        both = timer.latencies["answer"] + timer.latencies["next"]
        lines.append(f"{members} members × {rounds} badge runs of {len(pack.problems)} problems "
                     f"({took:.1f} s):")
        lines.append(f"  answer click          {spread(timer.latencies['answer'])}")
        lines.append(f"  next-problem click    {spread(timer.latencies['next'])}")
        lines.append(f"  every step click      p99 {percentile(both, .99):.1f} ms "
                     f"(target <= {TARGET_MS:.0f} ms), median {statistics.median(both):.1f} ms")
        await bot.release()
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        print("\n".join(asyncio.run(run(args.members, args.rounds, Path(folder)))))


if __name__ == "__main__":
    main()
