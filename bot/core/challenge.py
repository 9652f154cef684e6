"""The challenge lifecycle and the attempt rules, as plain data and pure functions.

The current time is always passed in, so the rules can be tested at any instant.
"""

from __future__ import annotations

from bot.core.errors import AlreadySolved, ChallengeClosed, InvalidChoice, NoAttemptsLeft
from bot.core.scoring import ScoringPolicy, points_for, policy
from bot.store.records import Challenge, MemberProgress, Verdict


def policy_of(challenge: Challenge) -> ScoringPolicy:
    return policy(challenge.scoring_mode, challenge.hint_cost_percent)



def check_can_act(challenge: Challenge, progress: MemberProgress, now: float) -> None:
    if not challenge.is_open(now):
        raise ChallengeClosed(challenge.ended_at)
    if progress.solved_points is not None:
        raise AlreadySolved(progress.solved_points)
    if progress.attempts_used >= challenge.attempts_allowed:
        raise NoAttemptsLeft(challenge.attempts_allowed)


def judge(challenge: Challenge, progress: MemberProgress, choice: str, now: float) -> Verdict:
    """Applies the rules to one answer; raises a ChallengeError when it cannot count."""
    check_can_act(challenge, progress, now)
    if choice not in challenge.letters:
        raise InvalidChoice(choice, challenge.letters)
    attempt_no = progress.attempts_used + 1
    correct = choice == challenge.answer
    elapsed = max(0.0, now - challenge.opened_at)
    points = 0
    if correct:
        points = points_for(challenge.difficulty, attempt_no, progress.hint_used, elapsed,
                            challenge.time_limit, policy_of(challenge))
    left = 0 if correct else challenge.attempts_allowed - attempt_no
    return Verdict(choice, correct, attempt_no, left, points, elapsed)


def next_streak(streak: int, verdict: Verdict) -> int:
    """A correct answer extends the streak; using up every attempt breaks it."""
    if verdict.correct:
        return streak + 1
    return 0 if verdict.final else streak
