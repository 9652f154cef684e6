"""Property tests of the attempt and scoring rules, with the core alone."""

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from bot.core.challenge import judge
from bot.core.errors import ChallengeError
from bot.store.records import MemberProgress
from tests.factories import challenge

actions = st.lists(
    st.tuples(st.integers(0, 3), st.sampled_from(["A", "B", "C", "D", "hint"]),
              st.floats(0, 150)),
    max_size=40)


@given(actions=actions, attempts=st.integers(1, 5), mode=st.sampled_from(["speed", "learning"]))
def test_attempt_limit_holds_and_nobody_scores_twice(actions, attempts, mode):
    ch = challenge(attempts=attempts, scoring_mode=mode)
    progress: dict[int, MemberProgress] = {}
    awarded: dict[int, list[int]] = {}
    for member, action, offset in actions:
        mine = progress.get(member, MemberProgress())
        if action == "hint":
            progress[member] = replace(mine, hint_used=True)
            continue
        try:
            verdict = judge(ch, mine, action, ch.opened_at + offset)
        except ChallengeError:
            continue
        assert verdict.attempt_no <= attempts
        assert verdict.points >= 0 and (verdict.points > 0) <= verdict.correct
        progress[member] = replace(mine, attempts_used=verdict.attempt_no,
                                   solved_points=verdict.points if verdict.correct else None)
        awarded.setdefault(member, []).append(verdict.points)
    for points in awarded.values():
        assert len(points) <= attempts
        assert sum(1 for p in points if p > 0) <= 1
