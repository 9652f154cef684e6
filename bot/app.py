"""TutorBot: owns the lifecycle. setup_hook opens everything; close() undoes it in reverse."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.bank import Bank, load_bank
from bot.config import Config
from bot.core.rules import CoreRules
from bot.core.service import ChallengeService
from bot.store import Store
from bot.store.records import Challenge
from bot.tasks import AnsweredCounter, RevealTimers
from bot.ui import posts
from bot.ui.buttons import AnswerButton, ComponentError, HintButton
from bot.ui.replies import permission_label
from bot.worker.explainer import passthrough

log = logging.getLogger(__name__)
# tutorbot never joins voice: don't warn that voice libraries are missing.
discord.VoiceClient.warn_nacl = False
discord.VoiceClient.warn_dave = False

EXTENSIONS = ("cogs.challenge", "cogs.stats", "cogs.admin", "cogs.explain")
ExtraItems = Callable[[Challenge], Sequence[discord.ui.Item[Any]]]


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
    try:
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True)
        else:
            await interaction.response.send_message(text, ephemeral=True)
    except discord.HTTPException:
        log.warning("could not tell user %s about the error in interaction %s",
                    interaction.user.id, interaction.id)


class TutorBot(commands.Bot):
    service: ChallengeService
    store: Store
    bank: Bank

    def __init__(self, config: Config) -> None:
        super().__init__(command_prefix=commands.when_mentioned, intents=intents(),
                         tree_cls=TutorTree, help_command=None,
                         allowed_mentions=discord.AllowedMentions.none())
        self.config = config
        self.reveal_extras: list[ExtraItems] = []  # the explain cog adds its "Why?" button
        self.reveals = RevealTimers(self.now, self.reveal_challenge)
        self.answered = AnsweredCounter(self.refresh_post)
        self.revealing: set[int] = set()  # challenge ids whose reveal is being shown
        # How to await something outside Discord (a child process); tests swap in simcord's.
        self.wait_external: Callable[[Awaitable[Any]], Awaitable[Any]] = passthrough
        self._released = False

    @staticmethod
    def now() -> float:
        """UTC now as UNIX seconds, from discord.py's clock (which tests can move)."""
        return discord.utils.utcnow().timestamp()

    async def setup_hook(self) -> None:
        self.bank = load_bank(self.config.questions_path)
        rules = CoreRules.for_bank(self.bank)
        self.store = await Store.open(self.config.database_path, rules,
                                      self.config.database_synchronous)
        self.service = ChallengeService(self.store, self.bank, rules)
        self.add_dynamic_items(AnswerButton, HintButton)
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        await self.restore_open_challenges()

    async def restore_open_challenges(self) -> None:
        """Re-arms the reveal of every challenge left open (overdue ones reveal at once) and
        redoes reveals a crash or a failed edit left unfinished."""
        open_ones = await self.store.challenges.open_ones()
        for challenge in open_ones:
            self.reveals.arm(challenge.id, challenge.deadline)
        unfinished = await self.store.challenges.unrevealed()
        for challenge in unfinished:
            self.reveals.arm(challenge.id, self.now())
        log.info("restored %d open challenges and %d unfinished reveals", len(open_ones),
                 len(unfinished))

    async def reveal_challenge(self, challenge_id: int) -> None:
        await posts.publish_reveal(self, challenge_id)

    async def refresh_post(self, challenge_id: int) -> None:
        await posts.refresh_post(self, challenge_id)

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
        """Stops timers and closes the database; idempotent, also used by tests on restart."""
        if self._released:
            return
        self._released = True
        for name in list(self.extensions):  # cogs stop their own workers
            await self.unload_extension(name)
        await self.answered.close()
        await self.reveals.close()
        if hasattr(self, "store"):
            await self.store.close()

    async def close(self) -> None:
        await super().close()  # the gateway first: no click may reach a closed store
        await self.release()


def create_bot(config: Config | None = None) -> TutorBot:
    """A fresh, unstarted bot configured from the environment."""
    return TutorBot(config or Config.from_env())


__all__ = ["ComponentError", "TutorBot", "create_bot"]
