"""/export's file on a real database: one CSV row per stored attempt of every mode, challenge
attempts by deadline then private-run attempts by start, in the server's periods; names that
would be formulas neutralised; a server too big for one file told which period fits."""

from __future__ import annotations

import csv
import gzip
import io
import random
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.core.export import ExportService, ExportTooBig, NothingToExport, period_start
from bot.core.periods import Period
from bot.store.export import COLUMNS
from tests.store.conftest import GUILD

NOON = datetime(2026, 3, 10, 12, 0, tzinfo=ZoneInfo("UTC")).timestamp()  # a Tuesday


@pytest.fixture
def exporter(store, bank):
    def make(now=NOON, **options):
        return ExportService(store, {p.id: p.pack_id for p in bank.problems.values()},
                             clock=lambda: now, **options)
    return make


@pytest.fixture
def run_attempt(store):
    """Stores one run attempt the way personal study does (its own run each time)."""
    async def add(member, at, *, mode="practice", pack=None, problem="other-1", choice="C",
                  correct=True, points=10, hint=False, attempt=1, name="Runner"):
        def insert(conn):
            run = conn.execute(
                "INSERT INTO runs (guild_id, member_id, mode, pack_id, problem_ids, started_at,"
                " status) VALUES (?, ?, ?, ?, ?, ?, 'finished') RETURNING id",
                (GUILD, member, mode, pack, problem, at)).fetchone()[0]
            conn.execute(
                "INSERT INTO run_attempts (run_id, position, problem_id, attempt_no, choice,"
                " correct, points, hint_used, answered_at, elapsed, display_name,"
                " submission_id) VALUES (?, 0, ?, ?, ?, ?, ?, ?, ?, 5, ?, ?)",
                (run, problem, attempt, choice, int(correct), points, int(hint), at, name,
                 f"run-{run}"))
        await store.db.transaction(insert)
    return add


async def exported_rows(service, period=Period.ALL) -> list[dict[str, str]]:
    async with service.exported(GUILD, period) as export:
        assert export.filename.endswith(".csv.gz")
        text = gzip.decompress(export.path.read_bytes()).decode("utf-8")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    assert tuple(reader.fieldnames or ()) == COLUMNS
    return list(reader)


async def test_one_row_per_attempt_challenges_first_then_runs_by_start(
        exporter, service, open_challenge, run_attempt):
    challenge = await open_challenge("pack-1", now=NOON - 100)
    await service.hint(challenge.id, 7, NOON - 95)
    await service.answer(challenge.id, 7, "A", NOON - 90, "s1", display_name="Ada")
    await service.answer(challenge.id, 7, "B", NOON - 60, "s2", display_name="Ada L.")
    await run_attempt(8, NOON - 80, mode="practice", problem="other-2", correct=False,
                      points=0)
    await run_attempt(8, NOON - 70, mode="badge_run", pack="pack", problem="pack-3",
                      hint=True)
    await run_attempt(9, NOON - 50, mode="review", problem="pack-4", attempt=2, name=None)

    rows = await exported_rows(exporter())

    assert [r["time_utc"] for r in rows] == ["2026-03-10T11:58:30.000Z",
                                             "2026-03-10T11:59:00.000Z",
                                             "2026-03-10T11:58:40.000Z",
                                             "2026-03-10T11:58:50.000Z",
                                             "2026-03-10T11:59:10.000Z"]
    first, second, practice, badge_run, review = rows
    assert first == {"time_utc": "2026-03-10T11:58:30.000Z", "member_id": "7",
                     "display_name": "Ada", "pack": "pack", "problem": "pack-1", "choice": "A",
                     "result": "wrong", "points": "0", "hint_used": "yes", "attempt": "1",
                     "mode": "challenge"}
    assert (second["display_name"], second["result"], second["attempt"]) == ("Ada L.",
                                                                             "right", "2")
    assert int(second["points"]) > 0
    assert (practice["mode"], practice["pack"], practice["result"]) == ("practice", "other",
                                                                        "wrong")
    assert (badge_run["mode"], badge_run["pack"], badge_run["hint_used"]) == ("badge_run",
                                                                              "pack", "yes")
    assert (review["mode"], review["display_name"], review["attempt"]) == ("review", "", "2")


def iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


async def test_every_stored_attempt_in_order_across_many_chunks(exporter, service,
                                                                open_challenge, run_attempt):
    rng = random.Random(3)
    expected = []
    for c in range(6):  # overlapping challenges: their answers interleave in time
        opened = NOON - 1000 + c * 30
        challenge = await open_challenge(f"pack-{c % 5}", now=opened)
        for member in rng.sample(range(5), 5):  # answered in any order, listed by member
            at = opened + rng.randrange(1, 100)
            await service.answer(challenge.id, member, "A", at, f"c{c}-{member}")
            expected.append((c, member, iso(at), "challenge"))
    expected.sort()
    runs = []
    for n in range(17):  # each its own run, started at its attempt, stored in any order
        at = NOON - 900 + rng.randrange(800)
        mode = ("practice", "badge_run", "review")[n % 3]
        await run_attempt(n % 4, at, mode=mode)
        runs.append((at, n, n % 4, iso(at), mode))  # same start: the earlier run first
    expected += [run[1:] for run in sorted(runs)]

    rows = await exported_rows(exporter(chunk_rows=3))

    assert [(int(r["member_id"]), r["time_utc"], r["mode"]) for r in rows] == [
        (member, time, mode) for _, member, time, mode in expected]


async def test_a_period_is_read_on_the_servers_own_clock(store, exporter, service,
                                                         open_challenge, run_attempt):
    await store.settings.update(GUILD, timezone="America/New_York")
    local_midnight = datetime(2026, 3, 10, tzinfo=ZoneInfo("America/New_York")).timestamp()
    before = await open_challenge("pack-1", now=local_midnight - 60)
    await service.answer(before.id, 1, "B", local_midnight - 30, "before")
    after = await open_challenge("pack-2", now=local_midnight + 10)
    await service.answer(after.id, 1, "B", local_midnight + 30, "after")
    await run_attempt(2, local_midnight - 5)
    await run_attempt(2, local_midnight + 5)

    today = await exported_rows(exporter(now=local_midnight + 3600, chunk_rows=1),
                                Period.TODAY)

    assert [r["time_utc"] for r in today] == ["2026-03-10T04:00:30.000Z",
                                              "2026-03-10T04:00:05.000Z"]
    assert len(await exported_rows(exporter(now=local_midnight + 3600))) == 4


def test_periods_start_at_local_midnight_monday_and_the_first():
    berlin = ZoneInfo("Europe/Berlin")
    now = datetime(2026, 3, 12, 15, 0, tzinfo=berlin).timestamp()  # a Thursday
    starts = {p: datetime.fromtimestamp(period_start(p, now, berlin), berlin)
              for p in (Period.TODAY, Period.WEEK, Period.MONTH)}
    assert starts == {Period.TODAY: datetime(2026, 3, 12, tzinfo=berlin),
                      Period.WEEK: datetime(2026, 3, 9, tzinfo=berlin),
                      Period.MONTH: datetime(2026, 3, 1, tzinfo=berlin)}
    assert period_start(Period.ALL, now, berlin) == float("-inf")


@pytest.mark.parametrize("name", ["=HYPERLINK(\"http://x\")", "+1+2", "-3", "@SUM(A1)",
                                  "\tTab", "\rReturn"])
async def test_a_name_that_would_be_a_formula_is_shown_as_text(exporter, run_attempt, name):
    await run_attempt(1, NOON - 10, name=name)
    [row] = await exported_rows(exporter())
    assert row["display_name"] == "'" + name


@pytest.mark.parametrize("name", ["Zoë, the \"quiz\" fan", "two\nlines", "學生 🐍", "a'b"])
async def test_commas_quotes_newlines_and_unicode_round_trip(exporter, service, open_challenge,
                                                             name):
    challenge = await open_challenge(now=NOON - 60)
    await service.answer(challenge.id, 1, "B", NOON - 30, "s", display_name=name)
    [row] = await exported_rows(exporter())
    assert row["display_name"] == name


async def test_too_big_names_the_period_that_fits(exporter, run_attempt):
    for day in range(20):  # one attempt a day up to today, then a busy today
        await run_attempt(1, NOON - (20 - day) * 86_400)
    for n in range(3):
        await run_attempt(1, NOON - 100 + n)

    with pytest.raises(ExportTooBig) as refused:
        async with exporter(max_bytes=100).exported(GUILD, Period.ALL):
            pass

    error = refused.value
    assert error.rows == 23 and error.estimated_bytes > 100
    assert {f.period: f.rows for f in error.narrower} == {Period.MONTH: 12, Period.WEEK: 4,
                                                          Period.TODAY: 3}
    fits = error.suggestion  # the widest period whose estimate is within the limit
    assert fits is not None and fits.period is Period.WEEK and fits.estimated_bytes <= 100


async def test_nothing_to_export_is_said_not_sent(exporter, run_attempt):
    await run_attempt(1, NOON - 2 * 86_400)
    with pytest.raises(NothingToExport):
        async with exporter().exported(GUILD, Period.TODAY):
            pass


async def test_other_servers_attempts_stay_out(store, exporter, bank, service, run_attempt):
    from bot.store.records import GuildSettings
    other = await service.start(guild_id=GUILD + 1, channel_id=99, starter_id=1,
                                problem=bank.problems["pack-0"],
                                settings=GuildSettings(GUILD + 1), now=NOON - 60)
    await service.answer(other.id, 1, "B", NOON - 30, "elsewhere")
    await run_attempt(1, NOON - 10)
    rows = await exported_rows(exporter())
    assert [r["mode"] for r in rows] == ["practice"]
