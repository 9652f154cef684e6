"""The study rhythm at run time: scheduled challenges and weekly results, fired by APScheduler.

The database is the truth. At start-up every running schedule becomes an APScheduler job
(in-memory job store); /schedule changes add, replace or drop jobs as they change rows. Every
run is idempotent: (job, scheduled instant) is claimed in the database before anything is
posted, so a restart, a clock jump, a double fire or a change of leader never posts twice. A
run missed while the bot was down posts once at start-up if it is less than the grace period
late; older ones are logged and skipped, never replayed.

With several bot processes only the schedule leader (bot/leader.py) runs the scheduler, and
posts for every server; a change made in any process is announced to it, and it brings its
jobs in line with the database.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, timedelta
from typing import Any

import discord
from apscheduler.job import Job
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.core.errors import (
    ChallengeError,
    ChannelBusy,
    NoMatchingProblem,
    PackDisabled,
    UnknownPack,
)
from bot.core.schedules import ScheduleRefused, ScheduleService, trigger_for
from bot.core.service import ChallengeService
from bot.core.settings import SettingsService
from bot.core.zones import UnknownZone
from bot.pacing import PacedSender, Reservation
from bot.store.records import GuildSettings, Schedule
from bot.tasks import Clock, TaskGroup
from bot.ui.posts import ChallengePoster, missing_permissions
from bot.ui.replies import permission_label
from bot.ui.timings import Group, due_run, missed_runs, timing_job, weekly_job, weekly_trigger

log = logging.getLogger(__name__)
LOOKBACK_S = 7 * 86400  # how far back start-up counts skipped runs, for the log only

GuildGetter = Callable[[int], discord.Guild | None]
WeeklyPost = Callable[[GuildSettings, float], Awaitable[discord.Embed]]
Announce = Callable[[str], Awaitable[None]]  # tells the leader "schedule:<id>", "weekly:<guild>"


def own_everything(guild_id: int) -> bool:
    return True


def new_scheduler() -> AsyncIOScheduler:
    return AsyncIOScheduler(timezone=UTC, job_defaults={
        "coalesce": True, "max_instances": 1, "misfire_grace_time": None})


@dataclass(frozen=True)
class Outcome:
    code: str  # posted, busy, paused, failed, duplicate
    text: str  # what /schedule list shows


class Broken(Exception):
    """The schedule's target can't work until an admin acts: the schedule is paused."""


class Rhythm:
    """Owns the APScheduler scheduler and every scheduled and weekly post.

    It runs while this process leads (start() to stop(), perhaps several times); `owns`
    says which servers this process knows from its own shards, and `announce` tells the
    leader of changes made here (None: one process, which always leads).
    """

    def __init__(self, *, schedules: ScheduleService, challenges: ChallengeService,
                 settings: SettingsService, poster: ChallengePoster, pacer: PacedSender,
                 clock: Clock, guild: GuildGetter, ready: Callable[[], Awaitable[Any]],
                 weekly_post: WeeklyPost | None = None, grace_s: float = 900.0,
                 owns: Callable[[int], bool] = own_everything,
                 announce: Announce | None = None) -> None:
        self.schedules, self.challenges, self.settings = schedules, challenges, settings
        self.poster, self.pacer, self.clock = poster, pacer, clock
        self.guild, self.ready, self.weekly_post = guild, ready, weekly_post
        self.grace = timedelta(seconds=grace_s)
        self.owns, self.announce = owns, announce
        self.scheduler = new_scheduler()
        self.leading = False
        self.tasks = TaskGroup("rhythm")
        self.announcing = TaskGroup("announce")
        self.groups: dict[str, Group] = {}  # job id -> the schedules it runs
        self.job_of: dict[int, str] = {}  # schedule id -> its job id

    # ---- life cycle -------------------------------------------------------------------

    async def start(self) -> None:
        """Rebuilds every job from the database and starts the scheduler; the catch-up of
        missed runs waits until the bot is connected and knows its servers. Changes that
        arrive meanwhile are followed already: following one twice does no harm."""
        self.leading = True
        running = []
        for schedule in await self.schedules.running():
            try:
                self._join_group(schedule)
            except (UnknownZone, ScheduleRefused) as exc:  # a zone or rule an upgrade dropped
                await self._pause(schedule, f"its timing no longer reads ({exc})")
                continue
            running.append(schedule)
        weekly = await self.settings.with_weekly_post()
        for settings in weekly:
            self._add_weekly_job(settings)
        self.scheduler.start()
        log.info("scheduler started: %d schedules in %d jobs, %d weekly posts", len(running),
                 len(self.groups), len(weekly))
        self.tasks.start("catch-up", self.catch_up(running, weekly))

    async def stop(self) -> None:
        """Stops running schedules (this process no longer leads); start() may follow."""
        self.leading = False
        await self.tasks.close()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        self.scheduler = new_scheduler()
        self.groups.clear()
        self.job_of.clear()

    async def close(self) -> None:
        await self.stop()
        await self.announcing.close()

    # ---- jobs ---------------------------------------------------------------------------

    def _join_group(self, schedule: Schedule) -> None:
        """Schedules with the same timing share one job: servers pick the same few times, and
        one job per timing keeps start-up and a 09:00 storm cheap."""
        job = timing_job(schedule)
        group = self.groups.get(job)
        if group is None:
            group = self.groups[job] = Group(trigger_for(schedule), set())
            self.scheduler.add_job(self.fire_timing, group.trigger, args=(job,), id=job,
                                   replace_existing=True)
        group.ids.add(schedule.id)
        self.job_of[schedule.id] = job

    def _leave_group(self, schedule_id: int) -> None:
        job = self.job_of.pop(schedule_id, None)
        if job is None:
            return
        group = self.groups[job]
        group.ids.discard(schedule_id)
        if not group.ids:
            del self.groups[job]
            if self.scheduler.get_job(job) is not None:
                self.scheduler.remove_job(job)

    def job_for(self, schedule_id: int) -> Job | None:
        """The APScheduler job that runs this schedule, if it is running."""
        job = self.job_of.get(schedule_id)
        return None if job is None else self.scheduler.get_job(job)

    def _add_weekly_job(self, settings: GuildSettings) -> None:
        self.scheduler.add_job(self.fire_weekly, weekly_trigger(settings),
                               args=(settings.guild_id,), id=weekly_job(settings.guild_id),
                               replace_existing=True)

    def schedule_changed(self, schedule: Schedule | None, schedule_id: int) -> None:
        """After /schedule add, pause, resume or remove: the job follows the row, here if
        this process leads, and wherever the leader runs."""
        if self.leading:
            self._follow_schedule(schedule, schedule_id)
        self._tell_leader(f"schedule:{schedule_id}")

    def _follow_schedule(self, schedule: Schedule | None, schedule_id: int) -> None:
        self._leave_group(schedule_id)
        if schedule is not None and schedule.paused_reason is None:
            self._join_group(schedule)

    async def weekly_changed(self, guild_id: int) -> None:
        """After /tutor weekly-post or a change of zone: the weekly job follows the settings."""
        if self.leading:
            await self._follow_weekly(guild_id)
        self._tell_leader(f"weekly:{guild_id}")

    async def _follow_weekly(self, guild_id: int) -> None:
        settings = await self.settings.of(guild_id)
        job = weekly_job(guild_id)
        if self.scheduler.get_job(job) is not None:
            self.scheduler.remove_job(job)
        if settings.weekly_channel_id is not None:
            self._add_weekly_job(settings)

    def _tell_leader(self, change: str) -> None:
        """In the background: the member's reply never waits for it. The leader may be this
        process; following a change twice does no harm."""
        if self.announce is not None:
            self.announcing.start(change, self.announce(change))

    def changed_elsewhere(self, change: str) -> None:
        """An announced change (from any process): the leader brings its job in line."""
        if self.leading:
            self.tasks.start(("change", change), self._follow_change(change))

    async def _follow_change(self, change: str) -> None:
        kind, _, number = change.partition(":")
        if not number.isdigit() or kind not in ("schedule", "weekly"):
            log.warning("ignored an announced change %r", change[:80])
        elif kind == "schedule":
            self._follow_schedule(await self.schedules.find(int(number)), int(number))
        else:
            await self._follow_weekly(int(number))

    # ---- firing -------------------------------------------------------------------------

    async def fire_timing(self, job: str) -> None:
        """APScheduler's job: makes the due run of every schedule with this timing, once."""
        group = self.groups.get(job)
        if group is None:
            return
        slot = due_run(group.trigger, self.clock(), self.grace)
        if slot is None:
            log.warning("job %s fired with no run due at %.0f", job, self.clock())
            return
        ids = sorted(group.ids)
        schedules = await self.schedules.running_among(ids)
        for gone in set(ids) - {s.id for s in schedules}:  # paused or removed meanwhile
            self.schedule_changed(None, gone)
        await self._run_all(schedules, slot)

    async def _run_all(self, schedules: list[Schedule], slot: int) -> None:
        """Runs side by side; they wait their turns at the paced sender. One failing run
        is logged and never stops the others."""
        results = await asyncio.gather(*(self.run_schedule(s, slot) for s in schedules),
                                       return_exceptions=True)
        for schedule, result in zip(schedules, results, strict=True):
            if isinstance(result, Exception):
                log.error("schedule %d: the run of %d failed", schedule.id, slot,
                          exc_info=result)

    async def run_schedule(self, schedule: Schedule, slot: int) -> Outcome:
        """Posts the run of `slot` unless it was claimed before; records what happened.

        The turn at the paced sender comes first: in a storm, runs then open their
        challenges (and start their timers) at the pace they can be posted, and their
        database work is spread out ahead of members' clicks."""
        await self.ready()
        reservation = await self.pacer.reserve()
        try:
            if not await self.schedules.claim_run(schedule.job, slot, self.clock()):
                log.info("schedule %d: the run of %d was already made", schedule.id, slot)
                return Outcome("duplicate", "already posted")
            try:
                outcome = await self._post_challenge(schedule, reservation)
            except Broken as exc:
                await self._pause(schedule, str(exc))
                outcome = Outcome("paused", f"paused: {exc}")
        finally:
            reservation.release()
        await self.schedules.finish_run(schedule.job, slot, outcome.code)
        await self.schedules.note_outcome(schedule.id, slot, outcome.text)
        return outcome

    async def _pause(self, schedule: Schedule, reason: str) -> None:
        log.warning("schedule %d paused: guild=%d channel=%d: %s", schedule.id,
                    schedule.guild_id, schedule.channel_id, reason)
        await self.schedules.pause_broken(schedule.id, reason)
        self.schedule_changed(None, schedule.id)

    async def _post_challenge(self, schedule: Schedule, reservation: Reservation) -> Outcome:
        guild_id = schedule.guild_id
        channel, guild = self._target(guild_id, schedule.channel_id)
        settings = await self.settings.of(guild_id)
        try:
            problem = await self.challenges.choose_problem(
                guild_id, pack=schedule.pack_id, difficulty=schedule.difficulty,
                kind=schedule.kind)
            challenge = await self.challenges.start(
                guild_id=guild_id, channel_id=channel.id, starter_id=0, problem=problem,
                settings=settings, now=self.clock())
        except ChannelBusy as exc:
            log.info("schedule %d skipped: challenge %d still open in channel %d",
                     schedule.id, exc.challenge_id, channel.id)
            return Outcome("busy", "skipped: a challenge was still running in the channel")
        except UnknownPack as exc:
            raise Broken(f"the pack '{exc.name[:40]}' is no longer installed") from None
        except PackDisabled as exc:
            raise Broken(f"its pack '{exc.pack_id[:40]}' is turned off on this server "
                         "(/tutor packs)") from None
        except NoMatchingProblem:
            raise Broken("no installed problem matches its pack, difficulty and kind") from None
        ping = ping_of(guild, schedule.ping_role_id)
        try:
            await self.poster.post(channel, challenge, problem, ping=ping,
                                   reservation=reservation)
        except (discord.Forbidden, discord.NotFound) as exc:
            await self.challenges.abandon(challenge.id, self.clock())
            raise Broken(f"Discord refused the post ({exc.status})") from None
        except discord.HTTPException as exc:
            await self.challenges.abandon(challenge.id, self.clock())
            log.warning("schedule %d: posting in channel %d failed: %s", schedule.id,
                        channel.id, exc)
            return Outcome("failed", f"failed: Discord answered {exc.status}; the next run "
                                     "is as usual")
        return Outcome("posted", f"posted challenge #{challenge.id}")

    def target_problem(self, guild_id: int, channel_id: int) -> str | None:
        """Why a post in this channel can't work now, or None if it can."""
        try:
            self._target(guild_id, channel_id)
        except Broken as exc:
            return str(exc)
        return None

    def _target(self, guild_id: int, channel_id: int) -> tuple[Any, discord.Guild | None]:
        """The channel to post in; raises Broken if it is gone or the bot can't post there.

        A server of another process's shards is not known here (nor its channels and
        permissions): its channel is taken on trust, and Discord's answer to the post says
        whether it still works."""
        guild = self.guild(guild_id)
        if guild is None and not self.owns(guild_id):
            return self.poster.channel(channel_id, guild_id), None
        if guild is None:
            raise Broken("the bot is no longer in this server")
        channel = guild.get_channel(channel_id)
        if channel is None or not isinstance(channel, discord.abc.Messageable):
            raise Broken("its channel was deleted")
        missing = missing_permissions(channel, guild.me)
        if missing:
            names = ", ".join(permission_label(n) for n in missing)
            raise Broken(f"the bot lacks {names} in <#{channel_id}>")
        return channel, guild

    async def fire_weekly(self, guild_id: int) -> None:
        settings = await self.settings.of(guild_id)
        if settings.weekly_channel_id is None or self.weekly_post is None:
            return
        slot = due_run(weekly_trigger(settings), self.clock(), self.grace)
        if slot is not None:
            await self.run_weekly(settings, slot)

    async def run_weekly(self, settings: GuildSettings, slot: int) -> str:
        """Posts the weekly results of the week before `slot`, once."""
        await self.ready()
        job = weekly_job(settings.guild_id)
        if not await self.schedules.claim_run(job, slot, self.clock()):
            return "duplicate"
        assert settings.weekly_channel_id is not None and self.weekly_post is not None
        try:
            channel, _ = self._target(settings.guild_id, settings.weekly_channel_id)
            # The turn first: a thousand servers posting at Monday 09:00 then compute their
            # reports at the sender's pace, not all at once ahead of members' clicks.
            reservation = await self.pacer.reserve()
            try:
                embed = await self.weekly_post(settings, float(slot))
                await reservation.run(lambda: channel.send(
                    embed=embed, allowed_mentions=discord.AllowedMentions.none()))
            finally:
                reservation.release()
            outcome = "posted"
        except Broken as exc:
            log.warning("weekly post of guild %d skipped: %s", settings.guild_id, exc)
            outcome = "broken"
        except discord.HTTPException as exc:
            log.warning("weekly post of guild %d failed: %s", settings.guild_id, exc)
            outcome = "failed"
        await self.schedules.finish_run(job, slot, outcome)
        return outcome

    # ---- start-up -----------------------------------------------------------------------

    async def catch_up(self, schedules: list[Schedule], weekly: list[GuildSettings]) -> None:
        """Runs missed while the bot was down: the latest one posts once if it is at most the
        grace period late; older ones are logged and skipped, never replayed."""
        await self.ready()
        now = self.clock()
        due: dict[int, list[int]] = {}
        for schedule in schedules:
            trigger = trigger_for(schedule)
            since = max(schedule.created_at, schedule.last_fire_at or 0.0, now - LOOKBACK_S)
            skipped = missed_runs(trigger, since, now - self.grace.total_seconds())
            if skipped:
                log.info("schedule %d: %d run(s) missed while the bot was down are skipped "
                         "(more than %.0f s late)", schedule.id, len(skipped),
                         self.grace.total_seconds())
            slot = due_run(trigger, now, self.grace)
            if slot is not None and slot > schedule.created_at:
                due.setdefault(slot, []).append(schedule.id)
        for slot, ids in due.items():
            await self._run_all(await self.schedules.running_among(ids), slot)
        for settings in weekly:
            slot = due_run(weekly_trigger(settings), now, self.grace)
            if slot is not None:
                await self.run_weekly(settings, slot)


def ping_of(guild: discord.Guild | None, role_id: int | None) -> discord.abc.Snowflake | None:
    """The role a post pings: the cached role (None if deleted), or just its id where the
    server is another process's."""
    if role_id is None:
        return None
    return guild.get_role(role_id) if guild is not None else discord.Object(role_id)


__all__ = ["ChallengeError", "Outcome", "Rhythm", "due_run", "missed_runs"]
