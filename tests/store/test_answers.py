import asyncio

import pytest

from bot.core.errors import (
    AlreadySolved,
    ChallengeClosed,
    ChallengeNotFound,
    ChannelBusy,
    NoAttemptsLeft,
)
from tests.store.conftest import GUILD


async def test_an_acknowledged_answer_is_already_committed(service, open_challenge,
                                                          read_elsewhere):
    ch = await open_challenge()
    await service.answer(ch.id, 7, "B", ch.opened_at + 1, "i-1")
    rows = await read_elsewhere("SELECT member_id, choice, correct FROM attempts")
    assert rows == [(7, "B", 1)]


async def test_a_repeated_submission_does_not_score_twice(service, open_challenge, store):
    ch = await open_challenge()
    first = await service.answer(ch.id, 7, "B", ch.opened_at + 1, "i-1")
    again = await service.answer(ch.id, 7, "B", ch.opened_at + 2, "i-1")
    assert again.replayed and again.verdict == first.verdict
    assert (await store.profiles.get(GUILD, 7)).points == first.verdict.points


async def test_wrong_then_right_scores_the_second_attempt(service, open_challenge):
    ch = await open_challenge()
    wrong = await service.answer(ch.id, 7, "A", ch.opened_at + 1, "i-1")
    right = await service.answer(ch.id, 7, "B", ch.opened_at + 2, "i-2")
    assert (wrong.verdict.attempts_left, right.verdict.attempt_no) == (1, 2)
    assert right.total_points == right.verdict.points > 0


async def test_no_third_attempt_and_no_answer_after_a_correct_one(service, open_challenge):
    ch = await open_challenge()
    await service.answer(ch.id, 7, "A", ch.opened_at + 1, "i-1")
    await service.answer(ch.id, 7, "C", ch.opened_at + 2, "i-2")
    with pytest.raises(NoAttemptsLeft):
        await service.answer(ch.id, 7, "B", ch.opened_at + 3, "i-3")
    await service.answer(ch.id, 8, "B", ch.opened_at + 1, "i-4")
    with pytest.raises(AlreadySolved):
        await service.answer(ch.id, 8, "B", ch.opened_at + 2, "i-5")


async def test_no_answer_after_the_deadline(service, open_challenge):
    ch = await open_challenge()
    with pytest.raises(ChallengeClosed):
        await service.answer(ch.id, 7, "B", ch.deadline, "i-1")


async def test_an_unknown_challenge_is_a_typed_error(service):
    with pytest.raises(ChallengeNotFound):
        await service.answer(999, 7, "B", 1.0, "i-1")


async def test_the_hint_costs_points_for_the_member_who_saw_it(service, open_challenge):
    ch = await open_challenge()
    hint = await service.hint(ch.id, 7, ch.opened_at)
    assert hint.first_time and hint.cost == 25
    late = ch.deadline - 0.001  # no speed bonus left, so points are base less the hint
    seen = await service.answer(ch.id, 7, "B", late, "i-1")
    unseen = await service.answer(ch.id, 8, "B", late, "i-2")
    assert (seen.verdict.points, unseen.verdict.points) == (75, 100)


async def test_a_challenge_closes_exactly_once(service, open_challenge):
    ch = await open_challenge()
    summaries = await asyncio.gather(*(service.close(ch.id, ch.deadline) for _ in range(10)))
    assert sum(s is not None for s in summaries) == 1


async def test_one_open_challenge_per_channel_unless_allowed(open_challenge):
    first = await open_challenge(multiple_per_channel=False)
    with pytest.raises(ChannelBusy) as busy:
        await open_challenge(problem_id="pack-1", multiple_per_channel=False)
    assert busy.value.deadline == first.deadline
    second = await open_challenge(problem_id="pack-1", multiple_per_channel=True)
    assert (second.channel_id, second.problem_id) == (first.channel_id, "pack-1")
    assert second.id != first.id and second.closed_at is None and first.closed_at is None


async def test_the_reveal_counts_first_answers_and_the_first_solver(service, open_challenge):
    ch = await open_challenge()
    for member, choice, at in [(1, "A", 3), (2, "B", 2), (3, "B", 1), (1, "B", 4)]:
        await service.answer(ch.id, member, choice, ch.opened_at + at, f"i-{member}-{at}")
    reveal = await service.close(ch.id, ch.deadline)
    assert reveal.spread == {"A": 1, "B": 2, "C": 0, "D": 0}
    assert (reveal.first_solver, reveal.solvers, reveal.participants) == (3, 3, 3)


async def test_pack_mastery_is_awarded_once(service, open_challenge, store, bank):
    awarded = []
    for round_ in range(2):
        for i, problem in enumerate(bank.packs["pack"].problems):
            ch = await open_challenge(problem.id, now=1_000_000.0 + 1000 * (round_ * 10 + i))
            result = await service.answer(ch.id, 7, problem.answer, ch.opened_at + 60, f"{ch.id}")
            awarded.extend(result.new_badges)
    assert awarded.count("pack:pack") == 1
    profile = await store.profiles.get(GUILD, 7)
    assert [b for b, _ in profile.badges].count("pack:pack") == 1


async def test_a_hint_after_the_member_is_done_costs_nothing(service, open_challenge):
    ch = await open_challenge()
    await service.answer(ch.id, 7, "B", ch.opened_at + 1, "i-1")
    late_look = await service.hint(ch.id, 7, ch.opened_at + 2)
    assert late_look.cost == 0 and not late_look.first_time
