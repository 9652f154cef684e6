"""TutorBot: owns the lifecycle. setup_hook opens everything; close() undoes it in reverse."""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.bank import Bank, load_bank
from bot.budget import SharedBudget
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
from bot.identify import IdentifyGate
from bot.leader import Leadership
from bot.pacing import MARGIN_S, WINDOW_S, PacedSender
from bot.shards import OwnedChallenges, Ownership
from bot.store import Store
from bot.store.leader import LeaderLock, announce
from bot.store.owned import OwnedChallengeRepo
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

SWEEP_S = 3.0  # how often a process arms reveals of challenges others opened in its servers
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

    Several processes may run the bot (ShardedTutorBot): each answers the servers of its own
    shards and runs their reveal timers; one of them, the schedule leader, runs the study
    rhythm for every server; their REST calls share one budget in Redis.
    """

    tutor: Tutor
    store: Store
    bank: Bank
    leadership: Leadership

    def __init__(self, config: Config, *, serve: bool = True, **gateway: Any) -> None:
        super().__init__(command_prefix=commands.when_mentioned, intents=intents(),
                         tree_cls=TutorTree, help_command=None,
                         allowed_mentions=discord.AllowedMentions.none(), **gateway)
        self.config = config
        self.serve = serve
        self.ownership = Ownership.of(config.shard_count, config.shard_ids)
        self.budget: SharedBudget | None = None
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
        if self.config.redis_url:  # several processes: one REST budget for them all
            self.budget = SharedBudget.from_url(self.config.redis_url, self.config.rest_rate,
                                                WINDOW_S + MARGIN_S)
        self.tutor = self.build_tutor(rules)
        self.add_dynamic_items(AnswerButton, HintButton, WhyButton, PageButton, *STUDY_BUTTONS)
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        self.leadership = self.build_leadership()
        log.info("running %s; REST budget %s", self.ownership.describe(),
                 "shared in Redis" if self.budget else "of this process alone")
        if self.serve:
            await self.tutor.poster.restore()
            if self.ownership.partial:  # the leader may open challenges in our servers
                self.tutor.poster.sweep_every(SWEEP_S)
            await self.leadership.start()

    def build_leadership(self) -> Leadership:
        """The rhythm runs where the leader lock is held: on PostgreSQL, one process of
        several; on SQLite, the only one."""
        rhythm = self.tutor.rhythm
        lock = (LeaderLock(self.config.database_url, listener=rhythm.changed_elsewhere)
                if self.config.database_url else None)
        return Leadership(lock, lead=rhythm.start, follow=rhythm.stop)

    def build_tutor(self, rules: CoreRules) -> Tutor:
        challenges = ChallengeService(self.store, self.bank, rules)
        settings = SettingsService(self.store)
        pacer = PacedSender(self.config.rest_rate, budget=self.budget)
        owned = OwnedChallenges(OwnedChallengeRepo(self.store.db), self.ownership)
        poster = ChallengePoster(challenges, settings, self.now, DeadlineTimers(self.now),
                                 AnsweredCounter(), self.channel_for, pacer, owned,
                                 reveal_extras=[why_buttons(self.bank)])
        explainer = Explainer.from_config(self.config, self.store.explanations, self.bank,
                                          self.now, self.store.explanation_jobs)
        schedules = ScheduleService(self.store, self.bank, self.now)
        weekly = WeeklyService(self.store)
        badge_roles = BadgeRoleService(self.store, challenges.catalogue)
        rhythm = Rhythm(schedules=schedules, challenges=challenges, settings=settings,
                        poster=poster, pacer=pacer, clock=self.now, guild=self.get_guild,
                        ready=self.wait_until_ready,
                        weekly_post=weekly_post(weekly, self.bank, challenges.catalogue),
                        grace_s=self.config.schedule_grace_s, owns=self.ownership.owns,
                        announce=(partial(announce, self.store.db)
                                  if self.config.database_url else None))
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
        if hasattr(self, "leadership"):
            await self.leadership.close()
        if hasattr(self, "tutor"):
            await self.tutor.rhythm.close()
            await self.tutor.poster.close()
            await self.tutor.explainer.close()
            await self.tutor.role_granter.close()
            await self.tutor.pacer.close()
        if self.budget is not None:
            await self.budget.close()
        if hasattr(self, "store"):
            await self.store.close()

    async def close(self) -> None:
        await super().close()  # the gateway first: no click may reach a closed store
        await self.release()


class ShardedTutorBot(TutorBot, commands.AutoShardedBot):
    """The bot on a block of shards, one gateway connection each: SHARD_COUNT in all,
    SHARD_IDS in this process (every one if unset). With REDIS_URL, processes take turns
    to IDENTIFY, as Discord asks of all of a bot's connections together."""

    def __init__(self, config: Config, *, serve: bool = True) -> None:
        ids = list(config.shard_ids) if config.shard_ids is not None else None
        super().__init__(config, serve=serve, shard_count=config.shard_count, shard_ids=ids)
        self.identify_gate = IdentifyGate.from_url(config.redis_url) if config.redis_url else None

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        if self.identify_gate is None or not await self.identify_gate.wait_turn():
            await super().before_identify_hook(shard_id, initial=initial)

    async def release(self) -> None:
        await super().release()
        if self.identify_gate is not None:
            gate, self.identify_gate = self.identify_gate, None
            await gate.close()


def create_bot(config: Config | None = None, *, serve: bool = True) -> TutorBot:
    """A fresh, unstarted bot configured from the environment: sharded when SHARD_COUNT is
    set; otherwise one gateway connection, as a bot in under 2,500 servers needs."""
    config = config or Config.from_env()
    if config.shard_count is not None:
        return ShardedTutorBot(config, serve=serve)
    return TutorBot(config, serve=serve)


__all__ = ["ComponentError", "ShardedTutorBot", "TutorBot", "create_bot"]
