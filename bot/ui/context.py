"""What callbacks work with: the bot's services, handed over as one bundle.

The bot builds a `Tutor` in setup_hook; cogs get it at load, buttons read it from the client
that runs them. Nothing in the UI needs the bot class itself.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import discord

if TYPE_CHECKING:  # annotations only: posts and buttons import this module
    from bot.bank import Bank
    from bot.core.export import ExportService
    from bot.core.insight import InsightService
    from bot.core.progress import ProgressService
    from bot.core.review import ReviewService
    from bot.core.roles import BadgeRoleService
    from bot.core.schedules import ScheduleService
    from bot.core.service import ChallengeService
    from bot.core.settings import SettingsService
    from bot.core.study import StudyService
    from bot.core.weekly import WeeklyService
    from bot.pacing import PacedSender
    from bot.tasks import Clock
    from bot.ui.posts import ChallengePoster
    from bot.ui.rhythm import Rhythm
    from bot.ui.roles import BadgeRoleGranter
    from bot.worker.explainer import Explainer

Wait = Callable[[Awaitable[Any]], Awaitable[Any]]


@dataclass
class Tutor:
    bank: Bank
    challenges: ChallengeService
    settings: SettingsService
    progress: ProgressService
    poster: ChallengePoster
    explainer: Explainer
    pacer: PacedSender  # every REST call the bot starts by itself, interaction replies aside
    schedules: ScheduleService
    rhythm: Rhythm  # runs schedules and weekly posts
    weekly: WeeklyService  # what the weekly results post says
    badge_roles: BadgeRoleService  # which role each badge brings
    study: StudyService  # each member's private practice, badge runs and reviews
    review: ReviewService  # each member's spaced-review queue
    insight: InsightService  # item analysis for organisers (/stats problem, /stats pack)
    role_granter: BadgeRoleGranter  # gives those roles in the background
    exports: ExportService  # /export's CSV files
    clock: Clock
    # How to await something outside Discord (a child process); tests swap in simcord's.
    wait_external: Wait


def tutor_of(interaction: discord.Interaction[Any]) -> Tutor:
    """The services of the bot that received this interaction."""
    tutor = getattr(interaction.client, "tutor", None)
    if not isinstance(tutor, Tutor):
        raise RuntimeError("this client has no tutorbot services (setup_hook did not run)")
    return tutor
