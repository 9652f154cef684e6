"""TutorBot: owns the lifecycle. setup_hook opens everything; close() undoes it in reverse."""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.bank import Bank, load_bank
from bot.config import Config
from bot.core.export import ExportService
from bot.core.insight import InsightService
from bot.core.progress import ProgressService
from bot.core.review import ReviewService
from bot.core.roles import BadgeRoleService
from bot.core.rules import CoreRules
from bot.core.schedules import ScheduleService
from bot.core.service import ChallengeService
from bot.core.settings import SettingsService
from bot.core.study import StudyService
from bot.core.weekly import WeeklyService
from bot.pacing import PacedSender
from bot.store import Store
from bot.tasks import AnsweredCounter, DeadlineTimers
from bot.ui.buttons import AnswerButton, ComponentError, HintButton
from bot.ui.context import Tutor
from bot.ui.explain import WhyButton, why_buttons
from bot.ui.posts import ChallengePoster
from bot.ui.replies import clip_message, permission_label
from bot.ui.rhythm import Rhythm
from bot.ui.roles import BadgeRoleGranter
from bot.ui.stats import PageButton
from bot.ui.study import STUDY_BUTTONS
from bot.ui.weekly import weekly_post
from bot.worker.explainer import Explainer, passthrough

log = logging.getLogger(__name__)
# tutorbot never joins voice: don't warn that voice libraries are missing.
discord.VoiceClient.warn_nacl = False
discord.VoiceClient.warn_dave = False

EXTENSIONS = ("cogs.challenge", "cogs.stats", "cogs.admin", "cogs.explain", "cogs.schedule",
              "cogs.study", "cogs.insight", "cogs.export")


def intents() -> discord.Intents:
    """Only what we use: guilds (channels, permissions). No privileged intent."""
    chosen = discord.Intents.none()
    chosen.guilds = True
    return chosen


class TutorTree(app_commands.CommandTree["TutorBot"]):
    async def on_error(self, interaction: discord.Interaction[Any],
                       error: app_commands.AppCommandError) -> None:
        """The one error handler: the member always gets a polite answer; the log gets ids."""
        command = getattr(interaction.command, "qualified_name", None)
        if isinstance(error, app_commands.CheckFailure):  # a refusal, not a fault
            log.info("interaction %s refused: user=%s guild=%s command=%s: %s", interaction.id,
                     interaction.user.id, interaction.guild_id, command, error)
        else:
            log.error("interaction %s failed: user=%s guild=%s channel=%s command=%s",
                      interaction.id, interaction.user.id, interaction.guild_id,
                      interaction.channel_id, command,
                      exc_info=getattr(error, "original", error))
        await reply_privately(interaction, error_text(error))


def error_text(error: app_commands.AppCommandError) -> str:
    if isinstance(error, app_commands.MissingPermissions):
        needed = ", ".join(permission_label(p) for p in error.missing_permissions)
        return f"🚫 You need the **{needed}** permission for this."
    if isinstance(error, app_commands.CommandOnCooldown):
        return f"⏳ Slow down a little: try again in {error.retry_after:.0f} s."
    if isinstance(error, app_commands.CheckFailure):
        return "🚫 You can't use this command here."
    return "😵 Something went wrong on my side. It has been logged; please try again."


async def reply_privately(interaction: discord.Interaction[Any], text: str) -> None:
    text = clip_message(text)
    try:
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True)
        else:
            await interaction.response.send_message(text, ephemeral=True)
    except discord.HTTPException:
        log.warning("could not tell user %s about the error in interaction %s",
                    interaction.user.id, interaction.id)


class TutorBot(commands.Bot):
    """The lifecycle owner. setup_hook builds the services from explicit parts and hands
    them to cogs and buttons as one `Tutor`; release() undoes it in reverse.

    With `serve=False` (what `tutorbot sync` uses) it logs in with every command loaded but
    arms no timer, so nothing is revealed or edited while commands are registered.
    """

    tutor: Tutor
    store: Store
    bank: Bank

    def __init__(self, config: Config, *, serve: bool = True) -> None:
        super().__init__(command_prefix=commands.when_mentioned, intents=intents(),
                         tree_cls=TutorTree, help_command=None,
                         allowed_mentions=discord.AllowedMentions.none())
        self.config = config
        self.serve = serve
        self._released = False

    @staticmethod
    def now() -> float:
        """UTC now as UNIX seconds, from discord.py's clock (which tests can move)."""
        return discord.utils.utcnow().timestamp()

    async def setup_hook(self) -> None:
        self.bank = load_bank(self.config.questions_path)
        rules = CoreRules.for_bank(self.bank)
        self.store = await Store.open(self.config.database, rules,
                                      self.config.database_synchronous)
        self.tutor = self.build_tutor(rules)
        self.add_dynamic_items(AnswerButton, HintButton, WhyButton, PageButton, *STUDY_BUTTONS)
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        if self.serve:
            await self.tutor.poster.restore()
            await self.tutor.rhythm.start()

    def build_tutor(self, rules: CoreRules) -> Tutor:
        challenges = ChallengeService(self.store, self.bank, rules)
        settings = SettingsService(self.store)
        pacer = PacedSender(self.config.rest_rate)
        poster = ChallengePoster(challenges, settings, self.now, DeadlineTimers(self.now),
                                 AnsweredCounter(), self.channel_for, pacer,
                                 reveal_extras=[why_buttons(self.bank)])
        explainer = Explainer.from_config(self.config, self.store.explanations, self.bank,
                                          self.now)
        schedules = ScheduleService(self.store, self.bank, self.now)
        weekly = WeeklyService(self.store)
        badge_roles = BadgeRoleService(self.store, challenges.catalogue)
        rhythm = Rhythm(schedules=schedules, challenges=challenges, settings=settings,
                        poster=poster, pacer=pacer, clock=self.now, guild=self.get_guild,
                        ready=self.wait_until_ready,
                        weekly_post=weekly_post(weekly, self.bank, challenges.catalogue),
                        grace_s=self.config.schedule_grace_s)
        return Tutor(bank=self.bank, challenges=challenges, settings=settings,
                     progress=ProgressService(self.store, self.now), poster=poster,
                     explainer=explainer, pacer=pacer, schedules=schedules, rhythm=rhythm,
                     weekly=weekly, badge_roles=badge_roles,
                     study=StudyService(self.store, self.bank, self.now),
                     review=ReviewService(self.store, self.now),
                     insight=InsightService(self.store, self.bank),
                     role_granter=BadgeRoleGranter(badge_roles, pacer),
                     exports=ExportService.for_bank(self.store, self.bank, self.now),
                     clock=self.now,
                     wait_external=passthrough)

    def channel_for(self, channel_id: int, guild_id: int) -> discord.PartialMessageable:
        return self.get_partial_messageable(channel_id, guild_id=guild_id)

    async def sync_commands(self) -> str:
        """Registers the slash commands: in DEV_GUILD_ID at once, or globally; says where."""
        if self.config.dev_guild_id:
            guild = discord.Object(self.config.dev_guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            where = f"server {self.config.dev_guild_id}"
        else:
            synced = await self.tree.sync()
            where = "every server (global commands can take up to an hour to appear)"
        names = ", ".join(f"/{c.name}" for c in synced)
        return f"Registered {len(synced)} commands in {where}: {names}"

    async def release(self) -> None:
        """Stops timers and runs, then closes the database; idempotent, also used by tests."""
        if self._released:
            return
        self._released = True
        for name in list(self.extensions):
            await self.unload_extension(name)
        if hasattr(self, "tutor"):
            await self.tutor.rhythm.close()
            await self.tutor.poster.close()
            await self.tutor.explainer.close()
            await self.tutor.role_granter.close()
            await self.tutor.pacer.close()
        if hasattr(self, "store"):
            await self.store.close()

    async def close(self) -> None:
        await super().close()  # the gateway first: no click may reach a closed store
        await self.release()


def create_bot(config: Config | None = None, *, serve: bool = True) -> TutorBot:
    """A fresh, unstarted bot configured from the environment."""
    return TutorBot(config or Config.from_env(), serve=serve)


__all__ = ["ComponentError", "TutorBot", "create_bot"]
