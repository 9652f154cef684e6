"""The challenge post and its reveal."""

from __future__ import annotations

from collections.abc import Sequence

import discord

from bot.bank import Problem
from bot.bank import text as bank_text
from bot.bank.model import KIND_EMOJI
from bot.core.badges import BadgeDef
from bot.store.records import Challenge, Reveal
from bot.ui.buttons import AnswerButton, HintButton
from bot.ui.replies import ts

OPEN_COLOUR = discord.Colour.blurple()
CLOSED_COLOUR = discord.Colour.dark_grey()
REVEAL_COLOUR = discord.Colour.green()
BAR_WIDTH = 12


def kind_line(problem: Problem) -> str:
    return f"{KIND_EMOJI[problem.kind]} {problem.kind_label} · {problem.difficulty.capitalize()}"


def challenge_embed(challenge: Challenge, problem: Problem, hint_cost: int) -> discord.Embed:
    embed = discord.Embed(title=problem.title,
                          description=bank_text.challenge_body(problem), colour=OPEN_COLOUR)
    embed.set_author(name=kind_line(problem))
    attempts = challenge.attempts_allowed
    rule = f"{attempts} attempt{'s' if attempts != 1 else ''} each"
    if hint_cost:
        rule += f" · the hint costs {hint_cost} points"
    if challenge.closed_at is None:
        ends = f"{ts(challenge.deadline)} ({ts(challenge.deadline, 't')})"
        embed.add_field(name="Ends", value=ends)
    else:
        embed.add_field(name="Closed", value=ts(challenge.closed_at, "t"))
        embed.colour = CLOSED_COLOUR
    embed.add_field(name="Rules", value=rule)
    embed.set_footer(text=answered_line(challenge.answered_count))
    return embed


def answered_line(count: int) -> str:
    return f"{count} answered" if count != 1 else "1 answered"


def challenge_view(challenge: Challenge, *, closed: bool = False,
                   extras: Sequence[discord.ui.Item] = ()) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for letter in challenge.letters:
        style = discord.ButtonStyle.primary
        if closed:
            style = (discord.ButtonStyle.success if letter == challenge.answer
                     else discord.ButtonStyle.secondary)
        view.add_item(AnswerButton(challenge.id, letter, style=style, disabled=closed))
    view.add_item(HintButton(challenge.id, disabled=closed))
    for item in extras:
        view.add_item(item)
    return view


def spread_lines(reveal: Reveal, answer: str) -> str:
    total = max(reveal.participants, 1)
    lines = []
    for letter, count in reveal.spread.items():
        share = count / total
        filled = round(share * BAR_WIDTH)
        mark = " ✅" if letter == answer else ""
        lines.append(f"`{letter}` `{'█' * filled}{'░' * (BAR_WIDTH - filled)}` "
                     f"{share:4.0%} ({count}){mark}")
    return "\n".join(lines)


def reveal_embed(reveal: Reveal, problem: Problem,
                 badges: Sequence[tuple[int, BadgeDef]]) -> discord.Embed:
    embed = discord.Embed(title="Answer revealed", description=bank_text.reveal_body(problem),
                          colour=REVEAL_COLOUR)
    if reveal.participants:
        embed.add_field(name=f"How the room answered ({reveal.participants} first answers)",
                        value=spread_lines(reveal, problem.answer), inline=False)
    else:
        embed.add_field(name="How the room answered", value="Nobody answered this time.",
                        inline=False)
    if reveal.first_solver is not None and reveal.first_solved_at is not None:
        seconds = reveal.first_solved_at - reveal.challenge.opened_at
        embed.add_field(name="First correct",
                        value=f"<@{reveal.first_solver}> in {seconds:.1f} s "
                              f"({reveal.solvers} solved it)", inline=False)
    if badges:
        embed.add_field(name="New badges", value=badge_lines(badges), inline=False)
    return embed


def badge_lines(badges: Sequence[tuple[int, BadgeDef]]) -> str:
    """One line per badge, as many as fit; the rest counted, never silently cut."""
    lines: list[str] = []
    for shown, (member, badge) in enumerate(badges):
        line = f"<@{member}> earned {badge.emoji} **{badge.name}**"
        rest = len(badges) - shown
        if sum(len(x) + 1 for x in lines) + len(line) + 20 > bank_text.BADGES_FIELD_LIMIT:
            lines.append(f"… and {rest} more")
            break
        lines.append(line)
    return "\n".join(lines)
