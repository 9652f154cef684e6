"""The rules of a member's private runs: practice, badge runs and reviews. Pure functions of
the run, the problem, what the member did so far and the time; no SQL, no Discord.

- Practice: untimed, unlimited attempts, free hints, no points; it never touches group scores.
- Badge run: a pack's problems in order, each with its own timer, attempts and hint cost, as
  the pack's page describes; every problem right earns the pack's mastery badge. Its points
  are the run's own score and never reach the leaderboards.
- Review: the member's due review cards; untimed, the problem's attempts, no points.
"""

from __future__ import annotations

from bot.bank import Problem
from bot.core.badges import pack_badge
from bot.core.errors import (
    AlreadySolved,
    InvalidChoice,
    NoAttemptsLeft,
    NotYourRun,
    RunOver,
    StaleStep,
)
from bot.core.scoring import ScoringPolicy, hint_cost, points_for
from bot.store.records import Run, StepState, Verdict

PRACTICE, BADGE_RUN, REVIEW = "practice", "badge_run", "review"
ABANDON_AFTER_S = 3600.0  # a badge run untouched this long is abandoned, not resumed


def time_limit(run: Run, problem: Problem) -> float | None:
    """Only badge runs are timed, with each problem's own timer."""
    return float(problem.time_limit) if run.mode == BADGE_RUN else None


def rating_time(run: Run, problem: Problem) -> float | None:
    """The time a right answer is measured against for review's Easy: a badge run's timer;
    in a review, the problem's usual time (nothing runs out there, but quick still counts);
    practice, being untimed and unlimited, never rates Easy."""
    if run.mode == PRACTICE:
        return None
    return float(problem.time_limit)


def attempts_allowed(run: Run, problem: Problem) -> int | None:
    """None: unlimited (practice)."""
    return None if run.mode == PRACTICE else problem.attempts


def deadline(run: Run, problem: Problem) -> float | None:
    limit = time_limit(run, problem)
    if limit is None or run.step_started_at is None:
        return None
    return run.step_started_at + limit


def timed_out(run: Run, problem: Problem, now: float) -> bool:
    """The current problem's time ran out before this answer."""
    ends = deadline(run, problem)
    return ends is not None and now > ends


def check_step(run: Run, member_id: int, position: int) -> None:
    """The click is the member's own, on the problem the run is at."""
    if run.member_id != member_id:
        raise NotYourRun("this run belongs to another member")
    if not run.active:
        raise RunOver(run.status)
    if position != run.position:
        raise StaleStep("the run has moved past this problem")


def check_on_screen(run: Run) -> None:
    """Answers and hints go to a problem the member has been shown (Next starts it)."""
    if run.current is None or run.step_started_at is None:
        raise StaleStep("that problem isn't on screen yet")


def judge_step(run: Run, problem: Problem, state: StepState, choice: str, now: float,
               policy: ScoringPolicy) -> Verdict:
    """One answer on the current problem; raises a ChallengeError when it cannot count."""
    allowed = attempts_allowed(run, problem)
    if state.solved:
        raise AlreadySolved(0)
    if allowed is not None and state.attempts_used >= allowed:
        raise NoAttemptsLeft(allowed)
    if choice not in problem.letters:
        raise InvalidChoice(choice, "".join(problem.letters))
    attempt_no = state.attempts_used + 1
    correct = choice == problem.answer
    elapsed = max(0.0, now - (run.step_started_at or now))
    points = 0
    limit = time_limit(run, problem)
    if correct and run.mode == BADGE_RUN and limit is not None:
        points = points_for(problem.difficulty, attempt_no, state.hint_used, elapsed, limit,
                            policy)
    if correct:
        left = 0
    elif allowed is None:
        left = 1  # practice: always one more, so a wrong answer is never final
    else:
        left = allowed - attempt_no
    return Verdict(choice, correct, attempt_no, left, points, elapsed)


def hint_cost_in(run: Run, problem: Problem, policy: ScoringPolicy) -> int:
    """What the hint costs: only a badge run's points can lose anything."""
    return hint_cost(problem.difficulty, policy) if run.mode == BADGE_RUN else 0


def mastery_badge_id(pack_id: str) -> str:
    """The badge a perfect badge run of this pack earns: the pack's own mastery badge."""
    return pack_badge(pack_id, "", "", "").id


def is_stale(run: Run, last_activity: float, now: float) -> bool:
    """A badge run nobody touched for ABANDON_AFTER_S is abandoned rather than resumed."""
    return run.mode == BADGE_RUN and now - last_activity > ABANDON_AFTER_S
