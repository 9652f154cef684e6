"""Private study on Discord: the step, result and summary of a practice, a badge run or a
review, and the buttons that move it on.

Every step answers the click that asked for it (its own interaction, edited in place), so a
run of any length never leans on a token older than Discord's 15 minutes. The buttons carry
the run and the problem's position: they work after a restart, and an old one is refused.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from typing import Any
from weakref import WeakValueDictionary

import discord

from bot.bank import Problem
from bot.bank import text as bank_text
from bot.core import runs as rules
from bot.core.badges import BadgeDef
from bot.core.scoring import ScoringPolicy, policy
from bot.store.records import Run, RunStep, StepOutcome
from bot.ui.buttons import SafeButton
from bot.ui.challenge import kind_line
from bot.ui.context import Tutor
from bot.ui.explain import send_explanation
from bot.ui.replies import badge_line, ts

STEP_COLOUR = discord.Colour.blurple()
RIGHT_COLOUR = discord.Colour.green()
WRONG_COLOUR = discord.Colour.red()
SUMMARY_COLOUR = discord.Colour.gold()
MODE_NAMES = {rules.PRACTICE: "Practice", rules.BADGE_RUN: "Badge run", rules.REVIEW: "Review"}
RUN_ID = r"(?P<rid>\d{1,18})"
POSITION = r"(?P<pos>\d{1,4})"


_locks: WeakValueDictionary[int, asyncio.Lock] = WeakValueDictionary()


def run_lock(run_id: int) -> asyncio.Lock:
    """The lock of one run's clicks; it lives while someone holds or waits for it."""
    lock = _locks.get(run_id)
    if lock is None:
        lock = _locks[run_id] = asyncio.Lock()
    return lock


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ---- what a member sees -----------------------------------------------------------------

def step_embed(run: Run, problem: Problem, scoring: ScoringPolicy, note: str | None = None
               ) -> discord.Embed:
    """The problem being answered, with where the run is and its rules."""
    embed = discord.Embed(title=problem.title, description=bank_text.challenge_body(problem),
                          colour=STEP_COLOUR)
    embed.set_author(name=f"{MODE_NAMES[run.mode]} · {kind_line(problem)}")
    if run.mode != rules.PRACTICE:
        embed.add_field(name="Problem", value=f"{run.position + 1} of {len(run.problem_ids)}")
    ends = rules.deadline(run, problem)
    if ends is not None:
        embed.add_field(name="Time left", value=f"{ts(ends)} ({ts(ends, 't')})")
    embed.add_field(name="Rules", value=rules_line(run, problem, scoring))
    if note:
        embed.add_field(name="\u200b", value=note, inline=False)
    if run.mode == rules.PRACTICE:
        embed.set_footer(text="Practice: untimed, as many tries as you like, free hints. "
                              "It never changes the leaderboard.")
    return embed


def rules_line(run: Run, problem: Problem, scoring: ScoringPolicy) -> str:
    allowed = rules.attempts_allowed(run, problem)
    if allowed is None:
        return "unlimited tries · free hint"
    line = f"{allowed} attempt{'s' if allowed != 1 else ''}"
    cost = rules.hint_cost_in(run, problem, scoring)
    return line + (f" · the hint costs up to {cost} points" if cost else " · free hint")


async def scoring_of(tutor: Tutor, guild_id: int) -> ScoringPolicy:
    """The server's scoring, which a badge run's points and hint cost follow."""
    settings = await tutor.settings.of(guild_id)
    return policy(settings.scoring_mode, settings.hint_cost_percent)


def step_view(run: Run, problem: Problem) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for letter in problem.letters:
        view.add_item(RunAnswerButton(run.id, run.position, letter))
    view.add_item(RunHintButton(run.id, run.position))
    view.add_item(RunStopButton(run.id, run.mode))
    return view


def result_embed(outcome: StepOutcome, problem: Problem,
                 badges: Sequence[BadgeDef]) -> discord.Embed:
    """After the last answer on a problem: right or not, and why."""
    verdict = outcome.verdict
    if outcome.timed_out:
        head, colour = "⏰ **Time's up** on this one: it counts as unanswered.", WRONG_COLOUR
    elif verdict is not None and verdict.correct:
        points = f" +{verdict.points} points" if verdict.points else ""
        head, colour = f"✅ **Correct!**{points}", RIGHT_COLOUR
    else:
        head, colour = f"❌ **Not this time.** The answer is **{problem.answer}**.", WRONG_COLOUR
    room = bank_text.EMBED_DESCRIPTION_LIMIT - len(head) - 2
    embed = discord.Embed(title=problem.title, colour=colour,
                          description=f"{head}\n\n{clip(bank_text.reveal_body(problem), room)}")
    embed.set_author(name=f"{MODE_NAMES[outcome.run.mode]} · {kind_line(problem)}")
    for badge in badges:
        embed.add_field(name="🏅 New badge!", value=badge_line(badge), inline=False)
    return embed


def retry_note(outcome: StepOutcome) -> str:
    verdict = outcome.verdict
    assert verdict is not None
    if outcome.run.mode == rules.PRACTICE:
        return f"❌ **{verdict.choice}** isn't it. Try again, or take the hint."
    left = verdict.attempts_left
    return f"❌ **{verdict.choice}** isn't it. {left} attempt{'s' if left != 1 else ''} left."


def result_view(run: Run, problem: Problem, position: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    finished = not run.active or (run.mode != rules.PRACTICE and run.current is None)
    view.add_item(RunNextButton(run.id, run.position, "See the summary" if finished
                                else "Next problem"))
    if problem.experiment is not None:
        view.add_item(RunWhyButton(run.id, position))
    if run.active and run.current is None and run.mode == rules.PRACTICE or (
            run.active and run.mode != rules.PRACTICE):
        view.add_item(RunStopButton(run.id, run.mode))
    return view


def summary_embed(run: Run, steps: Sequence[RunStep], tutor: Tutor,
                  badge: BadgeDef | None) -> discord.Embed:
    """The end of a run: score, right or wrong per problem, and time."""
    title = MODE_NAMES[run.mode]
    if run.pack_id and run.pack_id in tutor.bank.packs:
        title += f": {tutor.bank.packs[run.pack_id].title}"
    right = sum(s.correct for s in steps)
    lines = [step_line(step, tutor) for step in steps]
    embed = discord.Embed(title=f"🏁 {title}"[:256], colour=SUMMARY_COLOUR,
                          description="\n".join(lines)[:4000] or "Nothing answered.")
    total = len(run.problem_ids) if run.mode != rules.PRACTICE else len(steps)
    embed.add_field(name="Right", value=f"{right} of {total}")
    if run.mode == rules.BADGE_RUN:
        embed.add_field(name="Score", value=f"{sum(s.points for s in steps)} points")
    if run.ended_at is not None:
        embed.add_field(name="Time", value=duration(run.ended_at - run.started_at))
    if run.status == "abandoned":
        embed.add_field(name="Status", value="Abandoned before the end.", inline=False)
    if run.mode == rules.BADGE_RUN and badge is not None:
        if run.status == "finished" and right == total:
            embed.add_field(name="Perfect run", value=badge_line(badge), inline=False)
        else:
            embed.set_footer(text=f"Every problem right earns {badge.emoji} {badge.name}. "
                                  "Try again with /badge-run.")
    if run.mode == rules.BADGE_RUN:
        embed.set_footer(text=(embed.footer.text + " " if embed.footer.text else "")
                         + "Badge runs don't change the leaderboard.")
    return embed


def step_line(step: RunStep, tutor: Tutor) -> str:
    problem = tutor.bank.problems.get(step.problem_id)
    title = problem.title if problem else step.problem_id
    number = f"`{step.position + 1}`"
    if step.attempts == 0:
        return f"{number} ⏰ {title} · no answer in time"
    seconds = f" · {step.seconds:.0f} s" if step.seconds is not None else ""
    hint = " · 💡" if step.hint_used else ""
    tries = "" if step.attempts == 1 else f" · {step.attempts} tries"
    if step.correct:
        points = f" · +{step.points}" if step.points else ""
        return f"{number} ✅ {title}{points}{tries}{hint}{seconds}"
    answer = f" · answer {problem.answer}" if problem else ""
    return f"{number} ❌ {title}{answer}{tries}{hint}{seconds}"


def duration(seconds: float) -> str:
    minutes, rest = divmod(int(round(seconds)), 60)
    return f"{minutes} min {rest:02d} s" if minutes else f"{rest} s"


def in_progress_view(run_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(RunResumeButton(run_id))
    view.add_item(RunStopButton(run_id, rules.BADGE_RUN))
    return view


async def show_step_or_summary(interaction: discord.Interaction[Any], tutor: Tutor, run: Run,
                               *, note: str | None = None, edit: bool = True) -> None:
    """Shows the run where it is: its current problem, or its summary once it is over."""
    if run.current is not None and run.active:
        problem = tutor.study.problem_at(run, run.position)
        scoring = await scoring_of(tutor, run.guild_id)
        payload: dict[str, Any] = {"embed": step_embed(run, problem, scoring, note),
                                   "view": step_view(run, problem)}
    else:
        payload = {"embed": await summary_for(tutor, run), "view": None}
    if edit:
        await interaction.response.edit_message(**payload)
    else:
        await interaction.response.send_message(ephemeral=True, **payload)


async def summary_for(tutor: Tutor, run: Run) -> discord.Embed:
    steps = await tutor.study.steps(run)
    badge = (tutor.challenges.catalogue.get(rules.mastery_badge_id(run.pack_id))
             if run.pack_id else None)
    embed = summary_embed(run, steps, tutor, badge)
    if run.mode == rules.REVIEW:
        queue = await tutor.review.summary(run.guild_id, run.member_id)
        embed.add_field(name="Review queue", value=review_line(queue.due_now, queue.next_due,
                                                               queue.cards), inline=False)
    return embed


def review_line(due_now: int, next_due: float | None, cards: int) -> str:
    """A member's review queue in one line, for /profile and a review's summary."""
    if not cards:
        return "No cards yet: problems you miss or need a hint for come back here."
    ahead = f" · next {ts(next_due)}" if next_due is not None else ""
    if due_now:
        return f"{due_now} due now{ahead} · /review"
    return f"Nothing due{ahead}"


# ---- buttons ----------------------------------------------------------------------------

class RunAnswerButton(SafeButton,
                      template=rf"tutor:run:{RUN_ID}:{POSITION}:(?P<choice>[A-E])"):
    def __init__(self, run_id: int, position: int, choice: str) -> None:
        super().__init__(discord.ui.Button(label=choice, style=discord.ButtonStyle.primary,
                                           custom_id=f"tutor:run:{run_id}:{position}:{choice}"))
        self.run_id, self.position, self.choice = run_id, position, choice

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any],
                             item: discord.ui.Item[Any], match: re.Match[str]
                             ) -> RunAnswerButton:
        return cls(int(match["rid"]), int(match["pos"]), match["choice"])

    async def handle(self, interaction: discord.Interaction[Any], tutor: Tutor) -> None:
        # One click of a run at a time: a quick second click waits, so the replies edit the
        # message in the order the answers were stored and the last one shows where it is.
        async with run_lock(self.run_id):
            await self.answer(interaction, tutor)

    async def answer(self, interaction: discord.Interaction[Any], tutor: Tutor) -> None:
        outcome = await tutor.study.answer(self.run_id, interaction.user.id, self.position,
                                           self.choice, str(interaction.id),
                                           interaction.user.display_name)
        if outcome.replayed:  # the same click again: show the run as it is now
            await show_step_or_summary(interaction, tutor, outcome.run)
            return
        problem = tutor.bank.problems[outcome.problem_id]
        if not outcome.step_done:
            scoring = await scoring_of(tutor, outcome.run.guild_id)
            await interaction.response.edit_message(
                embed=step_embed(outcome.run, problem, scoring, retry_note(outcome)),
                view=step_view(outcome.run, problem))
            return
        badges = tutor.challenges.badges(outcome.new_badges)
        try:
            await interaction.response.edit_message(
                embed=result_embed(outcome, problem, badges),
                view=result_view(outcome.run, problem, self.position))
        finally:  # the badge is recorded even if the reply fails: so is its role
            tutor.role_granter.grant_later(interaction.user, outcome.new_badges)


class RunHintButton(SafeButton, template=rf"tutor:runhint:{RUN_ID}:{POSITION}"):
    def __init__(self, run_id: int, position: int) -> None:
        super().__init__(discord.ui.Button(
            label="Hint", emoji="💡", style=discord.ButtonStyle.secondary,
            custom_id=f"tutor:runhint:{run_id}:{position}"))
        self.run_id, self.position = run_id, position

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any],
                             item: discord.ui.Item[Any], match: re.Match[str]) -> RunHintButton:
        return cls(int(match["rid"]), int(match["pos"]))

    async def handle(self, interaction: discord.Interaction[Any], tutor: Tutor) -> None:
        hint = await tutor.study.hint(self.run_id, interaction.user.id, self.position)
        text = f"💡 **Hint:** {hint.problem.hint}"
        if hint.cost:
            text += f"\n*Seeing it lowers your points on this problem by up to {hint.cost}.*"
        await interaction.response.send_message(text, ephemeral=True)


class RunNextButton(SafeButton, template=rf"tutor:runnext:{RUN_ID}:{POSITION}"):
    def __init__(self, run_id: int, position: int, label: str = "Next problem") -> None:
        super().__init__(discord.ui.Button(
            label=label, emoji="➡️", style=discord.ButtonStyle.success,
            custom_id=f"tutor:runnext:{run_id}:{position}"))
        self.run_id, self.position = run_id, position

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any],
                             item: discord.ui.Item[Any], match: re.Match[str]) -> RunNextButton:
        return cls(int(match["rid"]), int(match["pos"]))

    async def handle(self, interaction: discord.Interaction[Any], tutor: Tutor) -> None:
        async with run_lock(self.run_id):
            run = await tutor.study.show_next(self.run_id, interaction.user.id,
                                              self.position)
            await show_step_or_summary(interaction, tutor, run)


class RunWhyButton(SafeButton, template=rf"tutor:runwhy:{RUN_ID}:{POSITION}"):
    """The experiment behind a problem the member has finished."""

    def __init__(self, run_id: int, position: int) -> None:
        super().__init__(discord.ui.Button(
            label="Why? (run it)", emoji="🔬", style=discord.ButtonStyle.secondary,
            custom_id=f"tutor:runwhy:{run_id}:{position}"))
        self.run_id, self.position = run_id, position

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any],
                             item: discord.ui.Item[Any], match: re.Match[str]) -> RunWhyButton:
        return cls(int(match["rid"]), int(match["pos"]))

    async def handle(self, interaction: discord.Interaction[Any], tutor: Tutor) -> None:
        run = await tutor.study.get(self.run_id)
        if run.member_id != interaction.user.id or self.position >= run.position:
            await interaction.response.send_message(
                "🔬 The experiment opens once you've answered that problem.", ephemeral=True)
            return
        await send_explanation(interaction, tutor, tutor.study.problem_at(run, self.position))


class RunStopButton(SafeButton, template=rf"tutor:runstop:{RUN_ID}"):
    def __init__(self, run_id: int, mode: str) -> None:
        label = "Finish" if mode == rules.PRACTICE else "Stop the run"
        super().__init__(discord.ui.Button(label=label, emoji="⏹️",
                                           style=discord.ButtonStyle.danger,
                                           custom_id=f"tutor:runstop:{run_id}"))
        self.run_id = run_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any],
                             item: discord.ui.Item[Any], match: re.Match[str]) -> RunStopButton:
        return cls(int(match["rid"]), "")

    async def handle(self, interaction: discord.Interaction[Any], tutor: Tutor) -> None:
        run = await tutor.study.stop(self.run_id, interaction.user.id)
        await show_step_or_summary(interaction, tutor, run)


class RunResumeButton(SafeButton, template=rf"tutor:runresume:{RUN_ID}"):
    def __init__(self, run_id: int) -> None:
        super().__init__(discord.ui.Button(label="Resume", emoji="▶️",
                                           style=discord.ButtonStyle.success,
                                           custom_id=f"tutor:runresume:{run_id}"))
        self.run_id = run_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any],
                             item: discord.ui.Item[Any], match: re.Match[str]
                             ) -> RunResumeButton:
        return cls(int(match["rid"]))

    async def handle(self, interaction: discord.Interaction[Any], tutor: Tutor) -> None:
        before = await tutor.study.get(self.run_id)
        run = await tutor.study.resume(self.run_id, interaction.user.id)
        note = None
        if run.position > before.position:
            note = "⏰ The problem you were on ran out of time while you were away."
        await show_step_or_summary(interaction, tutor, run, note=note)


STUDY_BUTTONS = (RunAnswerButton, RunHintButton, RunNextButton, RunWhyButton, RunStopButton,
                 RunResumeButton)
