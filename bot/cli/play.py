"""`tutorbot play`: a practice round in the terminal, through the same core and store as the bot.

Authors use it to try a pack before posting it. Answers are read line by line from stdin,
so it can be driven by a script as well as by a person.
"""

from __future__ import annotations

import asyncio
import itertools
import sys
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from bot.bank import Bank, Pack, Problem, load_bank
from bot.bank.text import why_not_block
from bot.config import clip
from bot.core.errors import ChallengeClosed, ChallengeError, InvalidChoice
from bot.core.progress import ProgressService
from bot.core.rules import CoreRules
from bot.core.scoring import hint_cost, policy
from bot.core.service import ChallengeService
from bot.store import Store
from bot.store.records import Challenge, GuildSettings

TERMINAL_GUILD = 0  # the terminal's progress is kept apart from every Discord server
TERMINAL_CHANNEL = 0
PLAYER = 1


@dataclass
class Round:
    service: ChallengeService
    progress: ProgressService
    read_line: Callable[[], str]
    out: TextIO
    clock: Callable[[], float] = time.time
    counter: itertools.count = itertools.count()
    score: int = 0  # points this round, kept here so quitting midway still reports them

    def say(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    async def ask(self, prompt: str) -> str | None:
        self.out.write(prompt)
        self.out.flush()
        line = await asyncio.to_thread(self.read_line)
        return None if line == "" else line.strip()  # "" is end of input


def format_left(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


def show_problem(rnd: Round, problem: Problem, number: int, total: int) -> None:
    rnd.say(f"\n━━ Problem {number}/{total} · {problem.kind_label} · {problem.difficulty} · "
            f"{format_left(problem.time_limit)} · {problem.attempts} attempts ━━")
    rnd.say(problem.title)
    rnd.say(textwrap.indent(problem.prompt.strip(), "  "))
    if problem.code:
        rnd.say("\n" + textwrap.indent(problem.code.rstrip(), "    │ "))
    rnd.say("")
    for letter, choice in problem.choices.items():
        rnd.say(f"  {letter}. {choice}")


def show_explanation(rnd: Round, problem: Problem) -> None:
    rnd.say(f"\nAnswer: {problem.answer}. {problem.choices[problem.answer]}")
    rnd.say(textwrap.fill(" ".join(problem.explanation.split()), 88))
    others = why_not_block(problem).replace("**", "")
    if others:
        rnd.say("Why not the others:\n" + others)


async def play_problem(rnd: Round, challenge: Challenge, problem: Problem) -> int:
    """Runs one problem until correct, out of attempts, out of time or quit; returns points."""
    letters = "".join(problem.letters)
    while True:
        left = challenge.deadline - rnd.clock()
        line = await rnd.ask(f"[{format_left(left)} left] Answer {letters[0]}–{letters[-1]}, "
                             "h for the hint, q to quit: ")
        if line is None or line.lower() == "q":
            raise KeyboardInterrupt
        if line.lower() == "h":
            hint = await rnd.service.hint(challenge.id, PLAYER, rnd.clock())
            cost = f" (−{hint.cost} points if you get it right)" if hint.first_time else ""
            rnd.say(f"💡 {problem.hint}{cost}")
            continue
        try:
            result = await rnd.service.answer(challenge.id, PLAYER, line.upper(), rnd.clock(),
                                              f"terminal-{challenge.id}-{next(rnd.counter)}")
        except ChallengeError as exc:
            rnd.say(f"  {describe(exc)}")
            if not challenge.is_open(rnd.clock()):
                return 0
            continue
        if result.verdict.correct:
            rnd.say(f"✅ Correct! +{result.verdict.points} points (total {result.total_points})")
            for badge in rnd.service.badges(result.new_badges):
                rnd.say(f"🏅 New badge: {badge.emoji} {badge.name}: {badge.description}")
            return result.verdict.points
        if result.verdict.attempts_left:
            rnd.say(f"❌ Not quite. {result.verdict.attempts_left} attempt(s) left.")
        else:
            rnd.say("❌ Not quite, and that was your last attempt.")
            return 0


def describe(exc: ChallengeError) -> str:
    if isinstance(exc, ChallengeClosed):
        return "⏰ Time is up for this one."
    if isinstance(exc, InvalidChoice):
        return f"Please answer with one of {', '.join(exc.letters)}, or h for the hint."
    return str(exc)


async def play_pack(rnd: Round, pack: Pack, settings: GuildSettings) -> None:
    rnd.say(f"{pack.title}\n{len(pack.problems)} problems. Earn {pack.badge.emoji} "
            f"{pack.badge.name} by answering them all correctly.")
    for number, problem in enumerate(pack.problems, start=1):
        show_problem(rnd, problem, number, len(pack.problems))
        challenge = await rnd.service.start(guild_id=TERMINAL_GUILD, channel_id=TERMINAL_CHANNEL,
                                            starter_id=PLAYER, problem=problem,
                                            settings=settings, now=rnd.clock())
        cost = hint_cost(problem.difficulty, policy(settings.scoring_mode,
                                                    settings.hint_cost_percent))
        rnd.say(f"(the hint costs {cost} points)")
        try:
            rnd.score += await play_problem(rnd, challenge, problem)
        finally:
            await rnd.service.close(challenge.id, rnd.clock())
        show_explanation(rnd, problem)


async def show_summary(rnd: Round, score: int) -> None:
    profile = await rnd.progress.profile(TERMINAL_GUILD, PLAYER)
    rnd.say(f"\n━━ Round over: {score} points this round · {profile.points} in all · "
            f"streak {profile.streak} ━━")
    badges = rnd.service.badges([b for b, _ in profile.badges])
    if badges:
        rnd.say("Badges: " + ", ".join(f"{b.emoji} {b.name}" for b in badges))


async def run_play(questions: Path, database: Path, pack_id: str | None, read_line: Callable[[],
                   str], out: TextIO, learning: bool = False) -> int:
    bank = load_bank(questions)
    pack = choose_pack(bank, pack_id)
    rules = CoreRules.for_bank(bank)
    store = await Store.open(database, rules)
    rnd = Round(ChallengeService(store, bank, rules), ProgressService(store, time.time),
                read_line, out)
    settings = GuildSettings(TERMINAL_GUILD, scoring_mode="learning" if learning else "speed")
    try:
        await play_pack(rnd, pack, settings)
    except KeyboardInterrupt:
        rnd.say("\nStopped.")
    finally:
        await show_summary(rnd, rnd.score)
        await store.close()
    return 0


class UnknownPack(ValueError):
    """--pack names no loaded pack; the message echoes it clipped and lists the known ones."""


def choose_pack(bank: Bank, pack_id: str | None) -> Pack:
    if pack_id is None:
        return next(iter(bank))
    if pack_id not in bank.packs:
        # Echoed as typed (case kept, so a wrong case shows), but escaped and clipped.
        raise UnknownPack(f"no pack {clip(pack_id)} (known: {known_ids(list(bank.packs))})")
    return bank.packs[pack_id]


def known_ids(ids: list[str], limit: int = 80) -> str:
    """As many ids as fit in limit characters, then how many there are in all."""
    shown: list[str] = []
    for pack_id in ids:
        if len(", ".join([*shown, pack_id])) > limit:
            return ", ".join(shown) + f", … ({len(ids)} packs)"
        shown.append(pack_id)
    return ", ".join(shown)


def main(questions: Path, database: Path, pack_id: str | None, learning: bool) -> int:
    try:
        return asyncio.run(run_play(questions, database, pack_id, sys.stdin.readline,
                                    sys.stdout, learning))
    except UnknownPack as exc:
        print(f"tutorbot play: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C: answers given so far are already saved
        print("\nStopped.")
        return 130
