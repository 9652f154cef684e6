"""Scheduled challenges at scale: start-up with many schedules, and a 1,000-server posting storm.

    python bench/schedules.py [--servers 1000] [--per-server 10] [--runs 3]
                              [--storm-servers 1000] [--members 200] [--mid-storm-at 10]

1. Start-up. Fills a fresh database through the real store with `--servers` × `--per-server`
   schedules of realistic variety (a 5-minute grid weighted towards 09:00 and 18-20:00, every
   day / weekdays / weekends / day lists / a few cron expressions, about 20 zones), then starts
   the bot `--runs` times, each in a fresh process, without a gateway: `wait_until_ready` never
   completes, so the catch-up task stays parked. Prints setup_hook's total, Rhythm.start()
   (the rebuild of every job) and its row load, and the jobs count; the median is the figure.
2. Storm. In simcord: `--storm-servers` servers, each with a channel and one schedule due at the
   same minute (19:00 UTC, written in 16 zones' local times). All runs fire at once, as
   APScheduler would (one task per job, each running Rhythm.fire_schedule), while `--members`
   members click the answer buttons of a member-started challenge in another server: once as
   the storm starts and once `--mid-storm-at` seconds in. Every REST request the bot makes
   outside interaction replies is timed at discord.py's HTTPClient.request (interaction
   callbacks and follow-ups take the webhook adapter and are exempt). Click latency is receipt
   (INTERACTION_CREATE) to the completed private reply, inside the bot, as in bench/clicks.py;
   the same burst without a storm gives the ratio.

simcord's in-memory Discord lives in the bot's process, so the RSS growth includes the
messages it stores: an upper bound for the bot's own growth.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
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

    async def timed_running(self: ScheduleService):  # type: ignore[no-untyped-def]
        began = time.perf_counter()
        rows = await running(self)
        marks["rows_load"] = time.perf_counter() - began
        return rows

    Rhythm.start = timed_start  # type: ignore[method-assign]
    ScheduleService.running = timed_running  # type: ignore[method-assign]
    bot = create_bot(Config(database_path=path, questions_path=ROOT / "questions"))
    never = asyncio.get_running_loop().create_future()

    async def never_ready() -> None:  # no gateway: the catch-up must stay parked
        await asyncio.shield(never)

    bot.wait_until_ready = never_ready  # type: ignore[method-assign]
    began = time.perf_counter()
    await bot.setup_hook()
    marks["setup_hook"] = time.perf_counter() - began
    rhythm = bot.tutor.rhythm
    catch_up = list(rhythm.tasks.tasks.values())
    marks["catch_up_parked"] = float(bool(catch_up) and not any(t.done() for t in catch_up))
    marks["jobs"] = float(len(rhythm.scheduler.get_jobs()))
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
    rows = (("jobs rebuilt", "jobs", "{:.0f}", f"= {n:,}"),
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

    def install(self, bot) -> None:  # type: ignore[no-untyped-def]
        original = bot.http.request
        calls = self.calls

        async def logged(route, **kwargs):  # type: ignore[no-untyped-def]
            began = time.perf_counter()
            try:
                return await original(route, **kwargs)
            finally:
                calls.append((began, time.perf_counter(), route.method, route.path,
                              getattr(route, "channel_id", None)))

        bot.http.request = logged


def busiest_second(starts: list[float]) -> int:
    """The most starts within any window [t, t + 1 s)."""
    ordered, best, low = sorted(starts), 0, 0
    for high, t in enumerate(ordered):
        while t - ordered[low] >= 1.0:
            low += 1
        best = max(best, high - low + 1)
    return best


async def burst(env, crowd, post, timer: AckTimer) -> list[float]:  # type: ignore[no-untyped-def]
    from tests.bot.burst import burst_click

    cid = post.components[0].children[0].custom_id.split(":")[2]
    ids = [f"tutor:answer:{cid}:{'ABCD'[i % 4]}" for i in range(len(crowd))]
    timer.latencies.clear()
    await burst_click(env, crowd, post, lambda i, _: ids[i])
    return [x * 1000 for x in timer.latencies]


async def run_storm(args: argparse.Namespace, folder: Path) -> list[str]:
    import discord
    import simcord

    from bot.app import create_bot
    from bot.config import Config
    from bot.core.schedules import trigger_for
    from bot.ui.rhythm import due_run

    bot = create_bot(Config(database_path=folder / "storm.db", questions_path=ROOT / "questions",
                            database_synchronous="FULL"))
    timer = AckTimer()
    timer.install(bot)
    lines: list[str] = []
    async with simcord.run(bot, settle_timeout=120.0) as env:
        await bot.tree.sync()
        rest = RestLog()
        rest.install(bot)
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
                schedules.append(await bot.tutor.schedules.add(
                    guild_id=guild.id, channel_id=channel.id, time_text=time_text,
                    days_text=days, timezone=zone_name, pack=None, difficulty=None, kind=None,
                    ping_role_id=None, created_by=admin.id))
        add_s = time.perf_counter() - began
        fire_ts = int(FIRE_AT.timestamp())
        slots = {due_run(trigger_for(s), fire_ts + 1, bot.tutor.rhythm.grace) for s in schedules}
        assert slots == {fire_ts}, f"storm schedules are not all due at {FIRE_AT}: {slots}"
        await env.advance_time(fire_ts + 1 - env.now().timestamp())  # 19:00:01

        # Without a storm: the same burst, for the ratio.
        await admin.slash(rooms[0], "challenge")
        quiet = await burst(env, crowd, rooms[0].history()[-1], timer)
        await admin.slash(rooms[0], "challenge-stop")
        for room in rooms[1:]:
            await admin.slash(room, "challenge")
        posts = [room.history()[-1] for room in rooms[1:]]
        timer.latencies.clear()

        gc.collect()
        rss_before = rss_mb()
        storm_channels = {channel.id for _, channel in targets}
        rhythm = bot.tutor.rhythm
        first_call = len(rest.calls)
        with env.time_context():  # the bot's clock, in tasks simcord does not settle (as a job)
            storm_began = time.perf_counter()
            fires = [asyncio.create_task(rhythm.fire_schedule(s.id)) for s in schedules]
        await asyncio.sleep(0.1)
        at_start = await burst(env, crowd, posts[0], timer)
        await asyncio.sleep(max(0.0, storm_began + args.mid_storm_at - time.perf_counter()))
        mid_storm = await burst(env, crowd, posts[1], timer)
        results = await asyncio.gather(*fires, return_exceptions=True)
        storm_s = time.perf_counter() - storm_began
        await env.settle()
        gc.collect()
        rss_after = rss_mb()

        calls = rest.calls[first_call:]
        made = [c for c in calls if c[2] == "POST" and c[3] == "/channels/{channel_id}/messages"
                and c[4] in storm_channels]
        last_post = max((end for _, end, *_ in made), default=float("nan")) - storm_began
        outcomes = Counter(row[0] for row in await bot.store.db.fetchall(
            "SELECT outcome FROM job_fires WHERE job LIKE 'schedule:%'"))
        errors = [r for r in results if isinstance(r, BaseException)]
        routes = Counter(f"{c[2]} {c[3]}" for c in calls)
        others = [c for c in calls if c not in made]
        await bot.release()

    n = args.storm_servers

    def clicks(label: str, lat: list[float], ratio: bool = True) -> str:
        if not lat:
            return f"  {label:44}none acknowledged"
        p50, p99 = percentile(lat, .5), percentile(lat, .99)
        extra = (f"  ({p99 / percentile(quiet, .99):.1f}× the quiet p99)" if ratio else "")
        return (f"  {label:44}{len(lat):>4} acked, p50 {p50:6.1f} ms, p99 {p99:6.1f} ms, "
                f"max {max(lat):6.1f} ms   p99 ≤ 100 ms{extra}")

    lines.append(f"Storm: {n:,} servers due at {FIRE_AT:%H:%M} UTC (typed in "
                 f"{len(STORM_ZONES)} zones' local times), {args.members} members clicking:")
    lines.append(f"  {'simcord: creating servers + channels':44}{create_s:8.2f} s "
                 f"({create_s / n * 1000:.2f} ms each)")
    lines.append(f"  {'ScheduleService.add of every schedule':44}{add_s:8.2f} s")
    lines.append(f"  {'fire outcomes':44}{dict(outcomes)} "
                 f"{f'; {len(errors)} raised: {errors[0]!r}' if errors else ''}")
    lines.append(f"  {'posts made':44}{len(made):8d}     = {n:,}")
    lines.append(f"  {'last scheduled post made after':44}{last_post:8.2f} s   ≤ 30 s")
    lines.append(f"  {'all fire tasks done after':44}{storm_s:8.2f} s")
    lines.append(f"  {'most REST starts in any 1 s window':44}"
                 f"{busiest_second([c[0] for c in calls]):8d}     ≤ 40")
    lines.append(f"  {'REST requests during the storm':44}{len(calls):8d}     "
                 f"({', '.join(f'{k}: {v}' for k, v in routes.most_common())})")
    if others:
        late = [c[0] - storm_began for c in others]
        lines.append(f"  {'  not storm posts, started at':44}"
                     + ", ".join(f"{t:.1f} s" for t in sorted(late)[:8]))
    lines.append(f"  {'RSS before → after the storm':44}{rss_before:6.1f} → {rss_after:.1f} MB"
                 f" (+{rss_after - rss_before:.1f} MB)   ≤ +30 MB")
    lines.append(clicks("clicks, no storm", quiet, ratio=False))
    lines.append(clicks("clicks as the storm starts (+0.1 s)", at_start))
    lines.append(clicks(f"clicks mid-storm (+{args.mid_storm_at:g} s)", mid_storm))
    return lines


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
