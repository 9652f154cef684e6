"""Item analysis against a brute force. Random histories of group challenges, badge runs and
practice runs (which must not count) are played through the real services and store on a
SQLite file; every figure of /stats then equals the definitions of bot/core/insight.py,
computed in plain Python from the raw tables."""

from __future__ import annotations

import asyncio
import math
import statistics
import tempfile
from collections import defaultdict
from contextlib import suppress
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.errors import ChallengeError
from bot.core.insight import MIN_RESPONSES, InsightService
from bot.core.rules import CoreRules
from bot.core.scoring import ScoringPolicy
from bot.core.service import ChallengeService
from bot.core.study import StepRules
from bot.store import Store
from bot.store import db as store_db
from bot.store.records import GuildSettings
from tests.factories import bank as make_bank

BANK = make_bank(problems_per_pack=3, packs=("pack", "other"))
PROBLEMS = sorted(BANK.problems)
MODES = ("challenge", "badge_run", "practice")

response = st.fixed_dictionaries({
    "choices": st.lists(st.sampled_from("ABCD"), min_size=1, max_size=3),
    "hint_before": st.none() | st.integers(0, 2),  # the hint shown before this attempt
    "gaps": st.lists(st.floats(0.5, 30), min_size=3, max_size=3),  # strictly later each time
})
asking = st.tuples(
    st.sampled_from(MODES), st.sampled_from((1, 2)), st.sampled_from(PROBLEMS),
    st.dictionaries(st.integers(1, 6), response, min_size=1, max_size=4))


class Player:
    """Plays askings through the challenge service and the run store, as the bot does."""

    def __init__(self, store: Store) -> None:
        rules = CoreRules.for_bank(BANK)
        self.store = store
        self.challenges = ChallengeService(store, BANK, rules)
        self.step_rules = StepRules(BANK, ScoringPolicy())
        self.submissions = 0

    def sid(self) -> str:
        self.submissions += 1
        return f"s{self.submissions}"

    async def play(self, mode: str, guild: int, problem_id: str, responses: dict[int, dict],
                   opened: float) -> None:
        if mode == "challenge":
            await self.challenge(guild, problem_id, responses, opened)
        else:
            for member, spec in responses.items():
                await self.run(mode, guild, problem_id, member, spec, opened)

    async def challenge(self, guild: int, problem_id: str, responses: dict[int, dict],
                        opened: float) -> None:
        ch = await self.challenges.start(
            guild_id=guild, channel_id=guild, starter_id=0, problem=BANK.problems[problem_id],
            settings=GuildSettings(guild, multiple_per_channel=True), now=opened)
        for member, spec in responses.items():
            at = opened
            for i, choice in enumerate(spec["choices"]):
                at += spec["gaps"][i]
                if spec["hint_before"] == i:
                    await self.challenges.hint(ch.id, member, at)
                with suppress(ChallengeError):  # solved already, or out of attempts
                    await self.challenges.answer(ch.id, member, choice, at, self.sid())

    async def run(self, mode: str, guild: int, problem_id: str, member: int, spec: dict,
                  opened: float) -> None:
        run = await self.store.runs.create(guild_id=guild, member_id=member, mode=mode,
                                           pack_id=BANK.problems[problem_id].pack_id,
                                           kind=None, problem_ids=[problem_id], now=opened)
        assert run is not None
        at = opened
        for i, choice in enumerate(spec["choices"]):
            at += spec["gaps"][i]
            if spec["hint_before"] == i:
                await self.store.runs.hint(run.id, 0, at)
            with suppress(ChallengeError):  # the step is over
                await self.store.runs.answer(run.id, member, 0, choice, at, self.sid(), None,
                                             self.step_rules)
        await self.store.runs.abandon(run.id, at + 1)  # one badge run at a time per member


@dataclass
class Response:
    guild: int
    problem: str
    member: int
    asking: tuple[str, int, int]
    first_choice: str
    first_right: bool
    right: bool
    hinted: bool
    right_after: float | None  # seconds to the right answer


@dataclass
class Expected:
    asked: int = 0
    responses: int = 0
    first_right: int = 0
    end_right: int = 0
    hinted: int = 0
    picks: dict[str, int] = field(default_factory=dict)
    median: float | None = None
    discrimination: float | None = None


async def raw_responses(store: Store) -> list[Response]:
    """Every counted response, read straight from the raw tables."""
    found = []
    for row in await store.db.fetchall(
            "SELECT c.id, c.guild_id, c.problem_id, c.opened_at, a.member_id, a.attempt_no,"
            " a.choice, a.correct, a.answered_at, h.revealed_at FROM attempts a"
            " JOIN challenges c ON c.id = a.challenge_id LEFT JOIN hints h"
            " ON h.challenge_id = c.id AND h.member_id = a.member_id"):
        found.append((("challenge", row[0], 0), row[1], row[2], row[4], row[5], row[6], row[7],
                      row[8] - row[3], row[9] is not None and row[9] <= row[8]))
    for row in await store.db.fetchall(
            "SELECT r.id, a.position, r.guild_id, a.problem_id, r.member_id, a.attempt_no,"
            " a.choice, a.correct, a.elapsed, h.revealed_at, a.answered_at FROM run_attempts a"
            " JOIN runs r ON r.id = a.run_id LEFT JOIN run_hints h"
            " ON h.run_id = r.id AND h.position = a.position WHERE r.mode = 'badge_run'"):
        found.append((("run", row[0], row[1]), row[2], row[3], row[4], row[5], row[6], row[7],
                      row[8], row[9] is not None and row[9] <= row[10]))
    grouped = defaultdict(list)
    for attempt in found:
        grouped[attempt[:4]].append(attempt)
    responses = []
    for (key, guild, problem, member), attempts in grouped.items():
        attempts.sort(key=lambda a: a[4])
        right = [a for a in attempts if a[6]]
        responses.append(Response(guild, problem, member, key, attempts[0][5],
                                  bool(attempts[0][6]), bool(right), any(a[8] for a in attempts),
                                  right[0][7] if right else None))
    return responses


def pearson(pairs: list[tuple[int, Fraction]]) -> float | None:
    """Exact Pearson's r; None where the definitions say n/a."""
    n = len(pairs)
    if n < MIN_RESPONSES:
        return None
    mean_x = Fraction(sum(x for x, _ in pairs), n)
    mean_y = sum((y for _, y in pairs), Fraction(0)) / n
    cov = sum((x - mean_x) * (y - mean_y) for x, y in pairs)
    var_x = sum((x - mean_x) ** 2 for x, _ in pairs)
    var_y = sum((y - mean_y) ** 2 for _, y in pairs)
    if var_x == 0 or var_y == 0:
        return None
    return float(cov) / math.sqrt(float(var_x) * float(var_y))


def brute_force(responses: list[Response], guild: int, problem: str) -> Expected:
    mine = [r for r in responses if r.guild == guild and r.problem == problem]
    expected = Expected(asked=len({r.asking for r in mine}), responses=len(mine),
                        first_right=sum(r.first_right for r in mine),
                        end_right=sum(r.right for r in mine), hinted=sum(r.hinted for r in mine))
    for r in mine:
        expected.picks[r.first_choice] = expected.picks.get(r.first_choice, 0) + 1
    times = [r.right_after for r in mine if r.right_after is not None]
    expected.median = statistics.median(times) if times else None
    pairs = []
    for r in mine:
        others = [o for o in responses if o.guild == guild and o.member == r.member
                  and o.problem != problem]
        if others:
            pairs.append((int(r.right), Fraction(sum(o.right for o in others), len(others))))
    expected.discrimination = pearson(pairs)
    return expected


def close(a: float | None, b: float | None) -> bool:
    return (a is None) == (b is None) and (a is None or b is None or math.isclose(
        a, b, rel_tol=1e-9, abs_tol=1e-9))


async def check(store: Store) -> None:
    responses = await raw_responses(store)
    insight = InsightService(store, BANK)
    for guild in (1, 2):
        for pack_id in BANK.packs:
            for item in (await insight.pack(guild, pack_id)).items:
                want = brute_force(responses, guild, item.problem.id)
                got = (item.asked, item.responses, item.first_right, item.end_right, item.hinted)
                assert got == (want.asked, want.responses, want.first_right, want.end_right,
                               want.hinted), item.problem.id
                assert {k: v for k, v in item.picks.items() if v} == want.picks
                assert close(item.median_right_s, want.median)
                assert close(item.discrimination, want.discrimination), (
                    item.discrimination, want.discrimination)


async def play_and_check(askings) -> None:
    with tempfile.TemporaryDirectory() as folder:
        store = await Store.open(Path(folder) / "t.db", CoreRules.for_bank(BANK),
                                 synchronous="OFF")
        try:
            player = Player(store)
            for n, (mode, guild, problem_id, responses) in enumerate(askings):
                await player.play(mode, guild, problem_id, responses, opened=1000.0 * (n + 1))
            await check(store)
        finally:  # a failed example must not leave the store's thread running
            await store.close()


@settings(max_examples=40, deadline=None)
@given(askings=st.lists(asking, max_size=20))
def test_every_figure_equals_the_brute_force_of_its_definition(askings):
    asyncio.run(play_and_check(askings))


def spec(*choices: str, hint_before: int | None = None) -> dict:
    return {"choices": list(choices), "hint_before": hint_before, "gaps": [3.0, 4.0, 5.0]}


# pack-0's key is B. Members 1-3 are right everywhere else but pick C here; members 4-6
# miss everything else but get pack-0 right: a classic wrong key.
WRONG_KEY_HISTORY = [
    ("challenge", 1, "pack-0", {m: spec("C") for m in (1, 2, 3)} | {m: spec("B")
                                                                  for m in (4, 5, 6)}),
    ("challenge", 1, "pack-0", {1: spec("C", "A"), 2: spec("C", "D"), 4: spec("A", "B")}),
    *[("challenge", 1, pid, {m: spec("B") for m in (1, 2, 3)}
       | {4: spec("A", "C"), 5: spec("C", "D"), 6: spec("D", "A")})
      for pid in ("pack-1", "pack-2", "other-0")],
    ("badge_run", 1, "pack-1", {5: spec("A", "B", hint_before=1)}),
    ("practice", 1, "pack-0", {1: spec("B")}),  # practice: not counted
]


async def played(where: Path | str, history) -> Store:
    """A store (a SQLite file or a PostgreSQL URL) that has played the history."""
    store = await Store.open(where, CoreRules.for_bank(BANK), synchronous="OFF")
    player = Player(store)
    for n, (mode, guild, problem_id, responses) in enumerate(history):
        await player.play(mode, guild, problem_id, responses, opened=1000.0 * (n + 1))
    return store


async def test_postgres_keeps_the_figures_of_their_definitions_too(postgres_url):
    store = await played(postgres_url, WRONG_KEY_HISTORY)
    try:
        await check(store)
        stats = await InsightService(store, BANK).pack(1, "pack")
    finally:
        await store.close()
    assert next(i for i in stats.items if i.problem.id == "pack-0").flagged


async def test_a_wrong_key_is_flagged_twice(tmp_path):
    store = await played(tmp_path / "t.db", WRONG_KEY_HISTORY)
    try:
        stats = await InsightService(store, BANK).pack(1, "pack")
    finally:
        await store.close()
    suspect = next(i for i in stats.items if i.problem.id == "pack-0")
    assert suspect.discrimination is not None and suspect.discrimination < 0
    assert suspect.negative_discrimination
    assert suspect.wrong_favourite == "C"
    assert suspect.flagged and stats.flagged == 1
    assert (suspect.asked, suspect.responses) == (2, 9)  # the practice answer isn't counted
    others = [i for i in stats.items if i.problem.id != "pack-0"]
    assert all(not i.flagged for i in others)


async def test_the_migration_counts_past_history_as_the_observer_did(tmp_path, monkeypatch):
    """Servers that upgrade keep their history: migration 0009 fills the tallies from the
    raw tables, with the same figures the observer keeps."""
    store = await played(tmp_path / "t.db", WRONG_KEY_HISTORY)
    insight = InsightService(store, BANK)
    before = [await insight.pack(1, p) for p in BANK.packs]
    for table in ("item_members", "item_member_totals", "item_picks", "item_times"):
        await store.db.execute(f"DROP TABLE {table}")
    await store.db.execute("DROP INDEX challenges_answered_by_problem")
    await store.db.execute("PRAGMA user_version = 8")
    await store.close()
    upgrade = [m for m in store_db.migrations() if m[0] <= 9]  # later ones are in place
    monkeypatch.setattr(store_db, "migrations", lambda: upgrade)
    store = await Store.open(tmp_path / "t.db", CoreRules.for_bank(BANK))
    try:
        after = [await InsightService(store, BANK).pack(1, p) for p in BANK.packs]
    finally:
        await store.close()
    assert after == before
