"""Scheduled challenges at scale: start-up with many schedules, and a 1,000-server posting storm.

    python bench/schedules.py [--servers 1000] [--per-server 10] [--runs 3]
                              [--storm-servers 1000] [--members 200] [--mid-storm-at 10]

1. Start-up. Fills a fresh database through the real store with `--servers` × `--per-server`
   schedules of realistic variety (a 5-minute grid weighted towards 09:00 and 18-20:00, every
   day / weekdays / weekends / day lists / a few cron expressions, about 20 zones), then starts
   the bot `--runs` times, each in a fresh process, without a gateway: `wait_until_ready` never
   completes, so the catch-up task stays parked. Prints setup_hook's total, Rhythm.start()
   (the rebuild of every job) and its row load, and the schedules and jobs (one per distinct
   timing) counts; the median is the figure.
2. Storm. In simcord: `--storm-servers` servers, each with a channel and one schedule due at the
   same minute (19:00 UTC, written in 16 zones' local times). All jobs fire at once, as
   APScheduler would (one task per job, each running Rhythm.fire_timing), while `--members`
   members click the answer buttons of a member-started challenge in another server: once as
   the storm starts and once `--mid-storm-at` seconds in. Every REST request the bot makes
   outside interaction replies is timed at discord.py's HTTPClient.request (interaction
   callbacks and follow-ups take the webhook adapter and are exempt). Click latency is receipt
   (INTERACTION_CREATE) to the completed private reply, inside the bot, as in bench/clicks.py;
   the same burst without a storm gives the ratio. Below the targets, where the time goes:
   the pacer's own count of the requests it started, event-loop stalls, full garbage
   collections, simcord's time inside the requests, and the DB thread.

simcord's in-memory Discord lives in the bot's process, so the RSS growth includes the
messages it stores (an upper bound for the bot's own growth), and its payload copies cost
event-loop time that a real gateway would not.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import gc
import json
import pstats
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.clicks import AckTimer, percentile, rss_mb  # noqa: E402

# ---- the schedules: realistic variety --------------------------------------------------------

ZONES = {  # server time zones, weighted roughly as a study-bot audience spreads
    "UTC": 10, "Europe/London": 8, "Europe/Berlin": 9, "Europe/Paris": 6, "Europe/Madrid": 4,
    "Europe/Warsaw": 3, "Europe/Kyiv": 2, "America/New_York": 10, "America/Chicago": 5,
    "America/Denver": 2, "America/Los_Angeles": 7, "America/Toronto": 3,
    "America/Sao_Paulo": 4, "Asia/Kolkata": 7, "Asia/Tokyo": 3, "Asia/Shanghai": 2,
    "Asia/Singapore": 2, "Asia/Dubai": 1, "Africa/Lagos": 1, "Australia/Sydney": 3,
}
POPULAR_HOURS = {9: 20, 18: 15, 19: 20, 20: 15, 7: 3, 8: 5, 10: 3, 12: 4, 13: 2, 16: 2, 17: 4,
                 21: 5, 22: 2}
MINUTES = {0: 60, 30: 20, 15: 5, 45: 5}  # other 5-minute marks share what is left
DAY_SETS = {"every day": 40, "weekdays": 30, "weekends": 8, "mon,wed,fri": 6, "tue,thu": 4,
            "mon,tue,wed,thu": 2, "sat": 1, "sun": 2, "fri": 1}
CRONS = ("0 9 * * 1-5", "30 18 * * 1,3", "0 20 * * 0", "15 8 1 * *", "0 */3 * * *",
         "45 19 * * 5", "0 7,19 * * *", "0 12 * * mon-fri")
CRON_SHARE = 0.03
SAME_ZONE_SHARE = 0.9  # most of a server's schedules use the server's zone


def pick(rng: random.Random, weights: dict) -> object:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def random_timing(rng: random.Random, server_zone: str) -> tuple[str | None, str, str]:
    """(time_text, days_text, zone) as an admin would type them."""
    zone_name = server_zone if rng.random() < SAME_ZONE_SHARE else str(pick(rng, ZONES))
    if rng.random() < CRON_SHARE:
        return None, rng.choice(CRONS), zone_name
    hour = int(pick(rng, POPULAR_HOURS)) if rng.random() < 0.85 else rng.randrange(24)
    minute = (int(pick(rng, MINUTES)) if rng.random() < 0.9
              else rng.choice([m for m in range(0, 60, 5) if m not in MINUTES]))
    return f"{hour:02d}:{minute:02d}", str(pick(rng, DAY_SETS)), zone_name


async def fill_startup_db(path: Path, servers: int, per_server: int, seed: int) -> dict:
    """Writes servers × per_server schedules: the first server's through ScheduleService.add
    (the /schedule add path), the rest in one transaction of the same rows, checked by the
    same parser."""
    from bot.bank import load_bank
    from bot.core.rules import CoreRules
    from bot.core.schedules import ScheduleService, parse_when
    from bot.core.zones import canonical_zone
    from bot.store import Store
    from bot.store.schedules import NEW_FIELDS

    bank = load_bank(ROOT / "questions")
    store = await Store.open(path, CoreRules.for_bank(bank), "OFF")
    service = ScheduleService(store, bank, lambda: 1_767_225_600.0)
    difficulties = sorted({p.difficulty for p in bank.problems.values()})
    rng = random.Random(seed)
    rows, timings, zones, crons = [], set(), set(), 0
    checked: dict[tuple[str | None, str, str], tuple[str | None, str, str]] = {}
    for server in range(1, servers + 1):
        server_zone = str(pick(rng, ZONES))
        for n in range(per_server):
            typed = random_timing(rng, server_zone)
            if typed not in checked:
                when = parse_when(typed[0], typed[1])
                checked[typed] = (when.time_of_day, when.days, canonical_zone(typed[2]))
            time_of_day, days, zone_name = checked[typed]
            difficulty = rng.choice(difficulties) if rng.random() < 0.1 else None
            ping = server * 1000 + 1 if rng.random() < 0.2 else None
            timings.add((time_of_day, days, zone_name))
            zones.add(zone_name)
            crons += time_of_day is None
            if server == 1:
                await service.add(guild_id=server, channel_id=server * 1000 + 100 + n,
                                  time_text=typed[0], days_text=typed[1], timezone=typed[2],
                                  pack=None, difficulty=difficulty, kind=None,
                                  ping_role_id=ping, created_by=server * 1000 + 2)
                continue
            row = dict(guild_id=server, channel_id=server * 1000 + 100 + n,
                       time_of_day=time_of_day, days=days, timezone=zone_name, pack_id=None,
                       difficulty=difficulty, kind=None, ping_role_id=ping,
                       created_by=server * 1000 + 2, created_at=1_767_225_600.0)
            rows.append(tuple(row[f] for f in NEW_FIELDS))
    sql = (f"INSERT INTO schedules ({', '.join(NEW_FIELDS)}) "
           f"VALUES ({', '.join('?' * len(NEW_FIELDS))})")
    await store.db.transaction(lambda c: c.executemany(sql, rows))
    count = (await store.db.fetchone("SELECT count(*) FROM schedules"))[0]
    await store.close()
    return {"schedules": count, "timings": len(timings), "zones": len(zones), "crons": crons}


async def startup_trial(path: Path) -> dict:
    """One cold start-up of the bot on `path`, without a gateway; run in its own process."""
    from bot.app import create_bot
    from bot.config import Config
    from bot.core.schedules import ScheduleService
    from bot.ui.rhythm import Rhythm

    marks: dict[str, float] = {}
    start, running = Rhythm.start, ScheduleService.running

    async def timed_start(self: Rhythm) -> None:
        began = time.perf_counter()
        await start(self)
        marks["rhythm_start"] = time.perf_counter() - began

    async def timed_running(self: ScheduleService):
        began = time.perf_counter()
        rows = await running(self)
        marks["rows_load"] = time.perf_counter() - began
        return rows

    Rhythm.start = timed_start
    ScheduleService.running = timed_running
    bot = create_bot(Config(database_path=path, questions_path=ROOT / "questions"))
    never = asyncio.get_running_loop().create_future()

    async def never_ready() -> None:  # no gateway: the catch-up must stay parked
        await asyncio.shield(never)

    bot.wait_until_ready = never_ready
    began = time.perf_counter()
    await bot.setup_hook()
    marks["setup_hook"] = time.perf_counter() - began
    rhythm = bot.tutor.rhythm
    catch_up = list(rhythm.tasks.tasks.values())
    marks["catch_up_parked"] = float(bool(catch_up) and not any(t.done() for t in catch_up))
    marks["jobs"] = float(len(rhythm.scheduler.get_jobs()))
    marks["scheduled"] = float(len(rhythm.job_of))
    gc.collect()
    marks["rss_mb"] = rss_mb()
    await bot.release()
    return marks


def run_startup(args: argparse.Namespace, folder: Path) -> list[str]:
    path = folder / "startup.db"
    began = time.perf_counter()
    filled = asyncio.run(fill_startup_db(path, args.servers, args.per_server, args.seed))
    fill_s = time.perf_counter() - began
    trials = []
    for _ in range(args.runs):
        out = subprocess.run([sys.executable, __file__, "--startup-trial", str(path)],
                             check=True, capture_output=True, text=True)
        trials.append(json.loads(out.stdout.strip().splitlines()[-1]))
    n = filled["schedules"]
    lines = [f"Start-up with {n:,} schedules ({args.servers:,} servers × {args.per_server}; "
             f"{filled['timings']:,} distinct timings, {filled['zones']} zones, "
             f"{filled['crons']} cron; filled in {fill_s:.1f} s), {args.runs} cold starts:"]
    head = "".join(f"{f'run {i + 1}':>9}" for i in range(len(trials)))
    lines.append(f"  {'':34}{head}{'median':>9}   target")
    rows = (("schedules in jobs", "scheduled", "{:.0f}", f"= {n:,}"),
            ("APScheduler jobs (one per timing)", "jobs", "{:.0f}", ""),
            ("Rhythm.start(): jobs rebuilt, s", "rhythm_start", "{:.3f}", "≤ 2 s"),
            ("  of which loading the rows, s", "rows_load", "{:.3f}", ""),
            ("setup_hook total, s", "setup_hook", "{:.3f}", ""),
            ("RSS after setup_hook, MB", "rss_mb", "{:.1f}", ""),
            ("catch-up parked (not run)", "catch_up_parked", "{:.0f}", "1"))
    for label, key, fmt, target in rows:
        values = [t[key] for t in trials]
        cells = "".join(f"{fmt.format(v):>9}" for v in values)
        lines.append(f"  {label:34}{cells}{fmt.format(statistics.median(values)):>9}   {target}")
    return lines


# ---- the storm ---------------------------------------------------------------------------------

FIRE_AT = datetime(2026, 1, 1, 19, 0, tzinfo=UTC)  # simcord's clock starts on 1 January 00:00
STORM_ZONES = ("UTC", "Europe/London", "Europe/Lisbon", "Europe/Berlin", "Europe/Paris",
               "Europe/Madrid", "Europe/Warsaw", "Europe/Kyiv", "America/New_York",
               "America/Toronto", "America/Chicago", "America/Los_Angeles", "America/Sao_Paulo",
               "Asia/Kolkata", "Asia/Dubai", "Africa/Lagos")
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def storm_timing(i: int) -> tuple[str, str, str]:
    """Server i's schedule, typed in its own zone, due at FIRE_AT."""
    zone_name = STORM_ZONES[i % len(STORM_ZONES)]
    local = FIRE_AT.astimezone(ZoneInfo(zone_name))
    weekday = DAY_NAMES[local.weekday()]
    days = ("every day", "weekdays" if local.weekday() < 5 else "weekends",
            f"{weekday}", "mon,wed,fri" if weekday in ("mon", "wed", "fri") else "tue,thu,fri",
            )[i % 4]
    if days == "tue,thu,fri" and weekday not in ("tue", "thu", "fri"):
        days = weekday
    return local.strftime("%H:%M"), days, zone_name


class RestLog:
    """Every request through the bot's HTTPClient.request: (start, end, method, route, channel)."""

    def __init__(self) -> None:
        self.calls: list[tuple[float, float, str, str, int | None]] = []

    def install(self, bot) -> None:
        original = bot.http.request
        calls = self.calls

        async def logged(route, **kwargs):
            began = time.perf_counter()
            try:
                return await original(route, **kwargs)
            finally:
                calls.append((began, time.perf_counter(), route.method, route.path,
                              getattr(route, "channel_id", None)))

        bot.http.request = logged


class LoopWatch:
    """Event-loop stalls (a 10 ms sleep waking more than 50 ms late) and full collections."""

    def __init__(self) -> None:
        self.stalls: list[tuple[float, float]] = []  # (when, seconds late)
        self.collections: list[tuple[float, float]] = []  # (when, seconds) of generation 2
        self._gc_began = 0.0

    def _gc(self, phase: str, info: dict) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            self._gc_began = time.perf_counter()
        else:
            self.collections.append((self._gc_began, time.perf_counter() - self._gc_began))

    async def watch(self) -> None:
        gc.callbacks.append(self._gc)
        try:
            while True:
                began = time.perf_counter()
                await asyncio.sleep(0.01)
                late = time.perf_counter() - began - 0.01
                if late > 0.05:
                    self.stalls.append((began, late))
        finally:
            gc.callbacks.remove(self._gc)

    def told(self, since: float, until: float) -> tuple[str, str]:
        stalls = [(t - since, d) for t, d in self.stalls if since <= t <= until]
        full = [(t - since, d) for t, d in self.collections if since <= t <= until]
        longest = max(stalls, key=lambda s: s[1], default=(0.0, 0.0))
        return (f"{len(stalls)}, longest {longest[1] * 1000:.0f} ms (at {longest[0]:.2f} s)",
                f"{len(full)}: " + ", ".join(f"{d * 1000:.0f} ms at {t:.2f} s" for t, d in full))


class Probes:
    """Timings inside the bot: the pacer's slots, the DB thread, when challenges open."""

    def __init__(self) -> None:
        self.slots: list[float] = []  # when each paced request started (the pacer's clock)
        self.db_busy: list[tuple[float, float]] = []  # (start, seconds) of units on the thread
        self.opened: dict[int, float] = {}  # channel id -> when its challenge row was opened

    def install(self, bot, bot_scope) -> None:
        pacer = bot.tutor.pacer
        paced_start, dispatch = pacer._start_reserved, pacer._dispatch

        def recorded_start() -> None:
            paced_start()
            self.slots.append(pacer.started[-1])

        async def dispatch_on_real_time() -> None:
            # The pacer waits on perf_counter, as in production. Created by bot work, its
            # waits would be simcord virtual timers, which stay parked while simcord settles
            # an advance of its clock (the "N answered" edit's timer starts one): the queue
            # would stall for settle_timeout. Out of the bot's scope, they are real timers.
            bot_scope.set(None)
            await dispatch()

        pacer._start_reserved, pacer._dispatch = recorded_start, dispatch_on_real_time
        db_run = bot.store.db.run

        def timed(fn):
            def on_thread(conn):
                began = time.perf_counter()
                try:
                    return fn(conn)
                finally:
                    self.db_busy.append((began, time.perf_counter() - began))
            return on_thread

        bot.store.db.run = lambda fn: db_run(timed(fn))
        start = bot.tutor.challenges.start

        async def recorded_start(**kwargs):
            challenge = await start(**kwargs)
            self.opened[challenge.channel_id] = time.perf_counter()
            return challenge

        bot.tutor.challenges.start = recorded_start


def busiest_second(starts: list[float]) -> tuple[int, float]:
    """The most starts within any window [t, t + 1 s), and that window's t."""
    ordered, best, low = sorted(starts), (0, float("nan")), 0
    for high, t in enumerate(ordered):
        while t - ordered[low] >= 1.0:
            low += 1
        best = max(best, (high - low + 1, ordered[low]), key=lambda b: b[0])
    return best


class Replies(list):
    """AckTimer's latencies, telling a waiter when the whole burst was answered."""

    def expect(self, count: int) -> asyncio.Event:
        self.clear()
        self.count, self.done = count, asyncio.Event()
        return self.done

    def append(self, latency: float) -> None:
        super().append(latency)
        if len(self) >= self.count:
            self.done.set()


async def burst(env, crowd, post, timer: AckTimer) -> tuple[list[float], float]:
    """Every member clicks `post` at once; returns the click latencies in ms, and how long
    delivering the clicks held the event loop (simcord's payloads and discord.py's parsing,
    in one step, as tests/bot/burst.py does).

    tests/bot/burst.py's burst_click, less its settle: settling also waits for the post's
    "N answered" edit 5 s later, which queues behind a storm, and would hold back the next
    burst. This waits for the private replies only.
    """
    from simcord.actors import _find_component, _visible_message
    from simcord.backend import serializers
    from simcord.enums import ComponentType, InteractionType
    from simcord.interactions import base_payload

    cid = post.components[0].children[0].custom_id.split(":")[2]
    assert isinstance(timer.latencies, Replies)
    answered = timer.latencies.expect(len(crowd))
    env._begin_operation("burst")
    began = time.perf_counter()
    try:
        for i, member in enumerate(crowd):
            stored = _visible_message(member, post)
            button = _find_component(stored.components, types=(ComponentType.BUTTON,),
                                     custom_id=f"tutor:answer:{cid}:{'ABCD'[i % 4]}",
                                     label=None)
            record, payload = base_payload(
                env.backend, type=InteractionType.MESSAGE_COMPONENT,
                channel_id=stored.channel_id, guild_id=member.guild.id, user_id=member.id,
                data={"custom_id": button["custom_id"],
                      "component_type": ComponentType.BUTTON})
            payload["message"] = dict(serializers.message_payload(env.backend, stored))
            record.source_message_id = stored.id
            env.backend.emit("INTERACTION_CREATE", payload)
    finally:
        env._end_operation()
    held = time.perf_counter() - began
    with contextlib.suppress(TimeoutError):  # the table shows how many were answered
        async with asyncio.timeout(60):
            await answered.wait()
    return [x * 1000 for x in timer.latencies], held


async def run_storm(args: argparse.Namespace, folder: Path) -> list[str]:
    import discord
    import simcord
    from simcord._runtime import _BOT_SCOPE

    from bot.app import create_bot
    from bot.config import Config
    from bot.core.schedules import trigger_for
    from bot.ui.rhythm import due_run

    bot = create_bot(Config(database_path=folder / "storm.db", questions_path=ROOT / "questions",
                            database_synchronous="FULL"))
    timer = AckTimer()
    timer.latencies = Replies()
    timer.install(bot)
    async with simcord.run(bot, settle_timeout=30.0) as env:
        await bot.tree.sync()
        rest, probes = RestLog(), Probes()
        rest.install(bot)
        probes.install(bot, _BOT_SCOPE)
        # The clicking server: three channels, one challenge each (before, at, during the storm).
        home = env.create_guild("Bench")
        rooms = [home.create_text_channel(f"quiz-{n}") for n in range(3)]
        admin = home.add_member(env.create_user("admin"), roles=[home.create_role(
            "Mods", permissions=discord.Permissions(manage_guild=True))])
        crowd = [home.add_member(env.create_user(f"m{i}")) for i in range(args.members)]

        began = time.perf_counter()
        targets = []
        for i in range(args.storm_servers):
            guild = env.create_guild(f"Study {i}")
            targets.append((guild, guild.create_text_channel("quiz")))
        create_s = time.perf_counter() - began
        await env.settle()

        began = time.perf_counter()
        schedules = []
        with env.time_context():
            for i, (guild, channel) in enumerate(targets):
                time_text, days, zone_name = storm_timing(i)
                schedule = await bot.tutor.schedules.add(
                    guild_id=guild.id, channel_id=channel.id, time_text=time_text,
                    days_text=days, timezone=zone_name, pack=None, difficulty=None, kind=None,
                    ping_role_id=None, created_by=admin.id)
                bot.tutor.rhythm.schedule_changed(schedule, schedule.id)  # as /schedule add
                schedules.append(schedule)
        add_s = time.perf_counter() - began
        fire_ts = int(FIRE_AT.timestamp())
        due = {due_run(trigger_for(s), fire_ts + 1, bot.tutor.rhythm.grace) for s in schedules}
        assert due == {fire_ts}, f"storm schedules are not all due at {FIRE_AT}: {due}"
        await env.advance_time(fire_ts + 1 - env.now().timestamp())  # 19:00:01

        # Without a storm: the same burst, for the ratio.
        await admin.slash(rooms[0], "challenge")
        quiet, _ = await burst(env, crowd, rooms[0].history()[-1], timer)
        await admin.slash(rooms[0], "challenge-stop")
        for room in rooms[1:]:
            await admin.slash(room, "challenge")
        posts = [room.history()[-1] for room in rooms[1:]]

        gc.collect()
        rss_before = rss_mb()
        storm_channels = {channel.id for _, channel in targets}
        rhythm = bot.tutor.rhythm
        first_call, first_slot = len(rest.calls), len(probes.slots)
        first_db = len(probes.db_busy)
        watch = LoopWatch()
        watcher = asyncio.create_task(watch.watch())
        profile = cProfile.Profile() if args.profile else None
        if profile is not None:
            profile.enable()
        await asyncio.sleep(0.05)
        with env.time_context():  # the bot's clock, in tasks simcord does not settle (as a job)
            storm_began = time.perf_counter()
            jobs = {job.id: job for job in map(rhythm.job_for, (s.id for s in schedules))
                    if job is not None}
            fires = [asyncio.create_task(job.func(*job.args)) for job in jobs.values()]
        await asyncio.sleep(0.1)
        at_start, held_start = await burst(env, crowd, posts[0], timer)
        await asyncio.sleep(max(0.0, storm_began + args.mid_storm_at - time.perf_counter()))
        mid_storm, held_mid = await burst(env, crowd, posts[1], timer)
        results = await asyncio.gather(*fires, return_exceptions=True)
        if profile is not None:
            profile.disable()
        storm_s = time.perf_counter() - storm_began
        watcher.cancel()
        await asyncio.gather(watcher, return_exceptions=True)
        await env.settle()
        gc.collect()
        rss_after = rss_mb()

        calls, storm_slots = rest.calls[first_call:], probes.slots[first_slot:]
        made = [c for c in calls if c[2] == "POST" and c[3] == "/channels/{channel_id}/messages"
                and c[4] in storm_channels]
        outcomes = Counter(row[0] for row in await bot.store.db.fetchall(
            "SELECT outcome FROM job_fires WHERE job LIKE 'schedule:%'"))
        db_storm = [(t - storm_began, d) for t, d in probes.db_busy[first_db:]
                    if t < storm_began + storm_s]
        await bot.release()

    n = args.storm_servers
    inside = [(end - began) * 1000 for began, end, *_ in calls]
    waits = [end - probes.opened[c] for _, end, _, _, c in made if c in probes.opened]
    errors = [r for r in results if isinstance(r, BaseException)]
    routes = Counter(f"{c[2]} {c[3]}" for c in calls)
    others = sorted(c[0] - storm_began for c in calls if c not in made)
    first_s = [d for t, d in db_storm if t < 1.0]
    stalls, collections = watch.told(storm_began, storm_began + storm_s)

    def spread(values: list[float], unit: str) -> str:
        if not values:
            return "none"
        return (f"p50 {percentile(values, .5):.1f} {unit}, p99 {percentile(values, .99):.1f} "
                f"{unit}, max {max(values):.1f} {unit}")

    def window(starts: list[float]) -> str:
        count, at = busiest_second(starts)
        return f"{count} (from {at - storm_began:.2f} s)"

    def clicks(lat: list[float], quiet: list[float] | None = None) -> str:
        told = f"{len(lat)} answered, {spread(lat, 'ms')}"
        if quiet and lat:
            told += f"; p99 {percentile(lat, .99) / percentile(quiet, .99):.1f}× quiet"
        return told

    rows = [
        ("simcord: creating the servers + channels",
         f"{create_s:.2f} s ({create_s / n * 1000:.2f} ms each)", ""),
        ("ScheduleService.add, one per server", f"{add_s:.2f} s", ""),
        ("fire outcomes", ", ".join(f"{k} {v}" for k, v in outcomes.items())
         + (f"; {len(errors)} raised, first: {errors[0]!r}" if errors else ""), f"posted {n:,}"),
        ("last scheduled post made after", f"{last_post(made, storm_began):.2f} s", "≤ 30 s"),
        ("challenge opened (deadline set) → posted", spread(waits, "s"), ""),
        ("most REST starts in any 1 s window", window([c[0] for c in calls]), "≤ 40"),
        ("  paced starts (the pacer's count) in any 1 s", window(storm_slots), "≤ 40"),
        ("  APScheduler jobs fired", f"{len(jobs)} (one per timing)", ""),
        ("  REST requests in the storm", f"{len(calls)}: " + ", ".join(
            f"{k} ×{v}" for k, v in routes.most_common()), ""),
        ("  the others started at", ", ".join(f"{t:.1f} s" for t in others[:6]) or "-", ""),
        ("  event-loop stalls over 50 ms", stalls, ""),
        ("  full (generation 2) garbage collections", collections, ""),
        ("  simcord's backend inside the requests",
         f"{sum(inside) / 1000:.2f} s of event-loop time, {spread(inside, 'ms')}", ""),
        ("DB thread busy (units timed on the thread)",
         f"{sum(d for _, d in db_storm):.2f} s of {storm_s:.1f} s, {len(db_storm):,} units; "
         f"first second: {sum(first_s) * 1000:.0f} ms, {len(first_s):,} units", ""),
        ("RSS before → after the storm", f"{rss_before:.1f} → {rss_after:.1f} MB "
         f"(+{rss_after - rss_before:.1f} MB)", "≤ +30 MB"),
        (f"{args.members} clicks at once, no storm", clicks(quiet), "p99 ≤ 100 ms"),
        ("  … as the storm starts (+0.1 s)", clicks(at_start, quiet), "p99 ≤ 100 ms"),
        (f"  … mid-storm (+{args.mid_storm_at:g} s)", clicks(mid_storm, quiet), "p99 ≤ 100 ms"),
        ("  delivering each storm burst held the loop", f"{held_start * 1000:.0f} ms at "
         f"+0.1 s, {held_mid * 1000:.0f} ms at +{args.mid_storm_at:g} s", ""),
    ]
    if profile is not None:
        rows.append(("event-loop time by package (cProfile)", loop_time_by_package(profile), ""))
    lines = [f"Storm: {n:,} servers due at {FIRE_AT:%H:%M} UTC (typed in {len(STORM_ZONES)} "
             f"zones' local times), fired at once; {args.members} members clicking "
             f"(all fire tasks done after {storm_s:.2f} s):"]
    lines.append(f"  {'':43} {'target':26} measured")
    lines += [f"  {label:43} {target:26} {value}" for label, value, target in rows]
    return lines


PACKAGES = (("simcord", "/simcord/"), ("discord.py", "/discord/"), ("bot", str(ROOT / "bot")),
            ("cogs", str(ROOT / "cogs")), ("apscheduler", "/apscheduler/"),
            ("asyncio", "/asyncio/"))


def loop_time_by_package(profile: cProfile.Profile) -> str:
    """Own time of each function, summed by the package it lives in; waiting in epoll (idle)
    left out. Built-ins and the standard library (copy, json, ...) count for the packages
    that called them, in proportion to the time each caller spent in them."""
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    shares: dict[tuple, dict[str, float]] = {}

    def share(func: tuple, seen: frozenset) -> dict[str, float]:
        if func in shares:
            return shares[func]
        named = next((name for name, marker in PACKAGES if marker in func[0]), None)
        if named is not None:
            return {named: 1.0}
        callers = {c: v[3] for c, v in stats[func][4].items() if c not in seen and c in stats}
        total = sum(callers.values())
        if not total:
            return {"other": 1.0}
        mixed: Counter[str] = Counter()
        for caller, spent in callers.items():
            for name, part in share(caller, seen | {func}).items():
                mixed[name] += part * spent / total
        shares[func] = dict(mixed)
        return shares[func]

    totals: Counter[str] = Counter()
    for func, (_, _, own, _, _) in stats.items():
        if "epoll" not in func[2]:
            for name, part in share(func, frozenset()).items():
                totals[name] += own * part
    busy = sum(totals.values())
    return ", ".join(f"{name} {t:.1f} s ({t / busy:.0%})" for name, t in totals.most_common())


def last_post(made: list, since: float) -> float:
    return max((end for _, end, *_ in made), default=float("nan")) - since


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", type=int, default=1000, help="start-up: servers")
    parser.add_argument("--per-server", type=int, default=10, help="start-up: schedules each")
    parser.add_argument("--runs", type=int, default=3, help="start-up: cold starts timed")
    parser.add_argument("--storm-servers", type=int, default=1000)
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--mid-storm-at", type=float, default=10.0, help="seconds")
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--skip-startup", action="store_true")
    parser.add_argument("--skip-storm", action="store_true")
    parser.add_argument("--profile", action="store_true",
                        help="storm: where the event loop's time went, by package (cProfile)")
    parser.add_argument("--startup-trial", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.startup_trial:
        print(json.dumps(asyncio.run(startup_trial(args.startup_trial))))
        return
    with tempfile.TemporaryDirectory(dir=Path.cwd()) as tmp:
        if not args.skip_startup:
            print("\n".join(run_startup(args, Path(tmp))), flush=True)
        if not args.skip_storm:
            print("\n".join(asyncio.run(run_storm(args, Path(tmp)))))


if __name__ == "__main__":
    main()
