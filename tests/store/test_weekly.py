"""The weekly report at its edges: an empty week, ties, the window's bounds, other servers."""

import pytest

from bot.core.weekly import MissedProblem, Standing, WeeklyService
from bot.store.weekly import ProblemTally
from tests.store.conftest import GUILD

DAY = 86_400.0
END = 1_767_225_600.0 + 14 * DAY  # 2026-01-15 00:00 UTC, a Thursday
START = END - 7 * DAY


@pytest.fixture
def weekly(store):
    return WeeklyService(store)


@pytest.fixture
def answer(service, open_challenge):
    """answer(member, right, at): one answer at `at` to a fresh challenge opened `delay`
    seconds before (past the quick-draw badge's share of the time)."""
    count = 0

    async def answer_(member, right=True, at=START + DAY, problem="pack-0", delay=30.0):
        nonlocal count
        count += 1
        challenge = await open_challenge(problem, now=at - delay)
        return await service.answer(challenge.id, member, "B" if right else "A", at,
                                    f"w{count}")
    return answer_


async def test_an_empty_week_is_a_quiet_week(weekly):
    report = await weekly.report(GUILD, END, "UTC")
    assert report.quiet and report.top == () and report.missed_most is None
    assert (report.challenges, report.members) == (0, 0)
    assert (report.start, report.end) == (START, END)


async def test_members_who_only_answered_wrong_count_as_active_but_not_ranked(weekly, answer):
    await answer(1, right=False)
    report = await weekly.report(GUILD, END, "UTC")
    assert not report.quiet and report.members == 1 and report.top == ()


async def test_equal_points_share_a_rank_and_are_listed_by_member_id(weekly, answer):
    for member in (30, 10, 20):
        await answer(member, at=START + DAY)  # the same instant: the same points
    await answer(40, at=START + DAY, delay=60)  # slower: fewer speed points
    top = (await weekly.report(GUILD, END, "UTC")).top
    assert [(s.rank, s.member_id) for s in top] == [(1, 10), (1, 20), (1, 30), (4, 40)]


async def test_the_top_is_ten_members(weekly, answer):
    for member in range(12):
        await answer(member, at=START + DAY + member)
    top = (await weekly.report(GUILD, END, "UTC")).top
    assert [s.member_id for s in top] == list(range(10))


async def test_an_answer_at_the_start_counts_and_one_at_the_end_does_not(weekly, answer):
    first = await answer(1, at=START)
    await answer(2, at=END)
    await answer(3, at=START - 1)
    report = await weekly.report(GUILD, END, "UTC")
    assert report.top == (Standing(1, 1, first.verdict.points),)
    assert report.members == 1


async def test_most_improved_compares_with_the_week_before(weekly, answer):
    await answer(1, at=START - DAY)  # the same points both weeks: no rise
    await answer(1, at=START + DAY + 60)
    await answer(2, at=START - DAY)  # last week only: no rise
    await answer(3, at=START + DAY)  # new this week: a rise from nothing
    improved = (await weekly.report(GUILD, END, "UTC")).improved
    assert [(i.member_id, i.previous) for i in improved] == [(3, 0)]


async def test_another_servers_answers_and_badges_do_not_count(weekly, service,
                                                               open_challenge):
    elsewhere = await open_challenge("pack-0", now=START + DAY)
    await service.store.db.execute("UPDATE challenges SET guild_id = 99 WHERE id = ?",
                                   (elsewhere.id,))
    await service.answer(elsewhere.id, 1, "B", START + DAY, "x")
    report = await weekly.report(GUILD, END, "UTC")
    assert report.quiet


async def test_badges_earned_in_the_week_are_listed_in_order(weekly, answer):
    await answer(2, at=START + DAY)
    await answer(1, at=START + 2 * DAY)
    await answer(3, at=START - DAY)  # earned last week
    badges = (await weekly.report(GUILD, END, "UTC")).badges
    assert badges == ((2, "first-correct"), (1, "first-correct"))


async def test_a_member_right_on_a_second_try_or_a_second_post_ended_right(weekly, answer,
                                                                          service,
                                                                          open_challenge):
    challenge = await open_challenge("pack-1", now=START + DAY)
    await service.answer(challenge.id, 1, "A", START + DAY, "first try")
    await service.answer(challenge.id, 1, "B", START + DAY + 1, "second try")
    await answer(2, right=False, problem="pack-1")
    await answer(2, right=True, problem="pack-1", at=START + 2 * DAY)
    await answer(3, right=False, problem="pack-1")
    activity = await service.store.weekly.activity(GUILD, START, END)
    assert activity.problems == (ProblemTally("pack-1", answered=3, right=2),)


async def test_the_problem_missed_most_then_the_lower_rate_then_the_id(weekly, answer):
    for member, right in ((1, False), (2, False), (3, True)):  # 2 missed of 3
        await answer(member, right, problem="pack-2")
    for member in (1, 2):  # 2 missed of 2: the same count, a lower rate
        await answer(member, right=False, problem="pack-3")
    for member in (1, 2):  # as pack-3, but a later id
        await answer(member, right=False, problem="pack-4")
    await answer(1, right=False, problem="other-0")  # fewer missed
    report = await weekly.report(GUILD, END, "UTC")
    assert report.missed_most == MissedProblem("pack-3", answered=2, right=0)
    assert report.missed_most.correct_rate == 0.0


async def test_nothing_is_missed_most_when_everyone_got_everything(weekly, answer):
    await answer(1)
    assert (await weekly.report(GUILD, END, "UTC")).missed_most is None


async def test_only_challenges_that_were_posted_count_as_run(weekly, store, open_challenge):
    posted = await open_challenge("pack-0", now=START + DAY)
    await store.challenges.set_message(posted.id, 555)
    await open_challenge("pack-1", now=START + DAY)  # its post failed: no message
    assert (await weekly.report(GUILD, END, "UTC")).challenges == 1


async def test_an_unknown_zone_falls_back_to_utc(weekly):
    report = await weekly.report(GUILD, END, "Mars/Olympus_Mons")
    assert report.zone == "UTC" and report.start == START
