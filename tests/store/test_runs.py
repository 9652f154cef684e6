"""Private runs through the core and a real SQLite file: badge runs that earn the badge, fail,
time out and survive a restart; practice that never touches group scores."""

from __future__ import annotations

import asyncio
import random

import pytest

from bot.core.errors import (
    BadgeRunInProgress,
    NotYourRun,
    RunOver,
    StaleStep,
)
from bot.core.rules import CoreRules
from bot.core.runs import ABANDON_AFTER_S
from bot.core.study import StudyService
from bot.store import Store
from bot.store.records import AttemptFact
from tests.factories import bank as make_bank
from tests.store.conftest import GUILD

MEMBER = 7


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def study(store, bank, clock):
    return StudyService(store, bank, clock, random.Random(1))


async def answer_all(study, clock, run, choices):
    """Answers each problem in turn with the given choices (a list per problem), pressing
    Next between problems as the member does."""
    outcome = None
    for position, tries in enumerate(choices, start=run.position):
        run = await study.show_next(run.id, MEMBER, position)
        for n, choice in enumerate(tries):
            clock.now += 5
            outcome = await study.answer(run.id, MEMBER, position, choice, f"s{position}-{n}",
                                         "Kim")
        run = outcome.run
    return outcome


async def test_a_perfect_badge_run_earns_the_pack_badge(study, clock, store):
    started = await study.start_badge_run(GUILD, MEMBER, "pack")
    run = started.run
    assert run.problem_ids == tuple(f"pack-{i}" for i in range(5))  # the pack's order
    last = await answer_all(study, clock, run, [["B"]] * 5)
    assert last.run.status == "finished" and last.new_badges == ("pack:pack",)
    steps = await study.steps(last.run)
    assert [s.correct for s in steps] == [True] * 5
    assert all(s.points > 0 and s.seconds == pytest.approx(5) for s in steps)
    badges = await store.db.fetchall("SELECT badge_id FROM badges WHERE member_id = ?", (MEMBER,))
    assert [r[0] for r in badges] == ["pack:pack"]


async def test_a_run_with_a_miss_earns_nothing(study, clock, store):
    run = (await study.start_badge_run(GUILD, MEMBER, "pack")).run
    last = await answer_all(study, clock, run, [["B"], ["A", "C"], ["B"], ["A", "B"], ["B"]])
    assert last.run.status == "finished" and last.new_badges == ()
    steps = await study.steps(last.run)
    assert [s.correct for s in steps] == [True, False, True, True, True]
    assert [s.attempts for s in steps] == [1, 2, 1, 2, 1]
    assert steps[3].points < steps[0].points  # a second attempt is worth less
    assert await store.db.fetchall("SELECT * FROM badges") == []


async def test_one_badge_run_at_a_time_and_a_forgotten_one_is_abandoned(study, clock):
    first = (await study.start_badge_run(GUILD, MEMBER, "pack")).run
    with pytest.raises(BadgeRunInProgress) as busy:
        await study.start_badge_run(GUILD, MEMBER, "other")
    assert busy.value.run_id == first.id
    clock.now += ABANDON_AFTER_S + 1
    again = await study.start_badge_run(GUILD, MEMBER, "other")
    assert again.abandoned is not None and again.abandoned.status == "abandoned"
    with pytest.raises(RunOver):  # the old run's buttons now do nothing
        await study.answer(first.id, MEMBER, 0, "B", "late", "Kim")


async def test_a_badge_run_survives_a_restart(bank, database, clock):
    store = await Store.open(database, CoreRules.for_bank(bank))
    study = StudyService(store, bank, clock)
    run = (await study.start_badge_run(GUILD, MEMBER, "pack")).run
    await answer_all(study, clock, run, [["B"], ["B"]])
    await store.close()  # the bot stops

    store = await Store.open(database, CoreRules.for_bank(bank))
    study = StudyService(store, bank, clock)
    clock.now += 30
    resumed = await study.resume(run.id, MEMBER)
    assert resumed.position == 2 and resumed.step_started_at == clock.now
    last = await answer_all(study, clock, resumed, [["B"]] * 3)
    assert last.run.status == "finished" and last.new_badges == ("pack:pack",)
    assert [s.correct for s in await study.steps(last.run)] == [True] * 5
    await store.close()


async def test_time_running_out_moves_on_and_counts_as_unanswered(study, clock, bank):
    run = (await study.start_badge_run(GUILD, MEMBER, "pack")).run
    clock.now += bank.problems["pack-0"].time_limit + 1
    late = await study.answer(run.id, MEMBER, 0, "B", "late", "Kim")
    assert late.timed_out and late.verdict is None and late.run.position == 1
    last = await answer_all(study, clock, late.run, [["B"]] * 4)
    steps = await study.steps(last.run)
    assert steps[0].attempts == 0 and not steps[0].correct and steps[0].seconds is None
    assert last.new_badges == ()


async def test_a_restart_during_a_problem_whose_time_ran_out_skips_it(study, clock, bank):
    run = (await study.start_badge_run(GUILD, MEMBER, "pack")).run
    clock.now += bank.problems["pack-0"].time_limit + 60  # the bot was down meanwhile
    resumed = await study.resume(run.id, MEMBER)
    assert resumed.position == 1 and resumed.step_started_at == clock.now


async def test_clicks_on_old_problems_or_other_runs_are_refused(study, clock):
    run = (await study.start_badge_run(GUILD, MEMBER, "pack")).run
    with pytest.raises(NotYourRun):
        await study.answer(run.id, MEMBER + 1, 0, "B", "x", "Eve")
    first = await study.answer(run.id, MEMBER, 0, "B", "s1", "Kim")
    with pytest.raises(StaleStep):
        await study.answer(run.id, MEMBER, 0, "B", "s2", "Kim")
    again = await study.answer(run.id, MEMBER, 0, "B", "s1", "Kim")  # the same click, retried
    assert again.replayed and again.verdict == first.verdict


async def test_practice_never_changes_group_scores(study, clock, store):
    run = await study.start_practice(GUILD, MEMBER, pack="pack", kind=None)
    seen = []
    for n in range(7):
        run = await study.show_next(run.id, MEMBER, run.position)
        problem = run.current
        seen.append(problem)
        wrong = await study.answer(run.id, MEMBER, run.position, "A", f"w{n}", "Kim")
        assert not wrong.step_done and wrong.verdict.attempt_no == 1  # untimed, unlimited
        right = await study.answer(run.id, MEMBER, run.position, "B", f"r{n}", "Kim")
        assert right.step_done and right.verdict.points == 0
        run = right.run
    assert sorted(seen[:5]) == [f"pack-{i}" for i in range(5)]  # every problem before repeats
    for table in ("members", "member_points", "solved", "badges", "attempts"):
        assert await store.db.fetchall(f"SELECT * FROM {table}") == [], table
    figures = await study.practice_figures(GUILD, MEMBER)
    assert (figures.answered, figures.first_try) == (7, 0)


async def test_run_attempts_reach_the_observers_with_their_mode(study, clock, store):
    facts: list[AttemptFact] = []

    class Seen:
        def on_attempt(self, conn, fact):
            facts.append(fact)

    store.attempt_observers.append(Seen())
    run = (await study.start_badge_run(GUILD, MEMBER, "pack")).run
    await study.hint(run.id, MEMBER, 0)
    clock.now += 3
    await study.answer(run.id, MEMBER, 0, "B", "s", "Kim")
    [fact] = facts
    assert (fact.mode, fact.problem_id, fact.correct, fact.final, fact.hint_used) == (
        "badge_run", "pack-0", True, True, True)
    assert fact.elapsed == pytest.approx(3) and fact.time_limit == 120


async def test_an_answer_waits_for_its_problem_to_be_shown(study, clock):
    run = (await study.start_badge_run(GUILD, MEMBER, "pack")).run
    await study.answer(run.id, MEMBER, 0, "B", "s0", "Kim")
    clock.now += 10_000  # long after, without pressing Next: no timer has started
    with pytest.raises(StaleStep):
        await study.answer(run.id, MEMBER, 1, "B", "s1", "Kim")
    with pytest.raises(StaleStep):
        await study.hint(run.id, MEMBER, 1)
    shown = await study.show_next(run.id, MEMBER, 1)
    clock.now += 4
    outcome = await study.answer(run.id, MEMBER, 1, "B", "s1", "Kim")
    assert shown.step_started_at is not None and outcome.verdict.elapsed == pytest.approx(4)


async def test_a_problem_removed_by_an_upgrade_is_passed_over(store, bank, clock):
    run = (await StudyService(store, bank, clock).start_badge_run(GUILD, MEMBER, "pack")).run
    upgraded = make_bank(problems_per_pack=5, packs=("pack", "other"))
    del upgraded.problems["pack-1"]
    study = StudyService(store, upgraded, clock)
    await study.answer(run.id, MEMBER, 0, "B", "s0", "Kim")
    now_at = await study.show_next(run.id, MEMBER, 1)
    assert now_at.position == 2 and now_at.current == "pack-2"
    steps = await study.steps(now_at)
    assert [(s.problem_id, s.attempts) for s in steps][:2] == [("pack-0", 1), ("pack-1", 0)]


async def test_two_next_presses_at_once_draw_one_problem(study, clock):
    run = await study.start_practice(GUILD, MEMBER, pack="pack", kind=None)
    done = await study.answer(run.id, MEMBER, 0, "B", "s0", "Kim")
    first, second = await asyncio.gather(study.show_next(run.id, MEMBER, 1),
                                         study.show_next(run.id, MEMBER, 1))
    assert len(first.problem_ids) == len(second.problem_ids) == 2
    assert first.current == second.current and done.run.position == 1


async def test_review_passes_over_cards_of_removed_problems(store, bank, clock):
    study = StudyService(store, bank, clock)
    rows = [(GUILD, MEMBER, f"gone-{i}", "gone", "{}", clock.now - 100 + i, None, 0, 0.0)
            for i in range(15)]
    rows.append((GUILD, MEMBER, "pack-3", "pack", "{}", clock.now - 1, None, 0, 0.0))
    await store.db.transaction(lambda c: c.executemany(
        "INSERT INTO review_cards (guild_id, member_id, problem_id, pack_id, card, due,"
        " last_rating, reviews, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows))
    run = await study.start_review(GUILD, MEMBER)
    assert run.problem_ids == ("pack-3",)
