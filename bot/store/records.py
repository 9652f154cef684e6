"""Plain records the store reads and writes; the core applies its rules to them."""

from __future__ import annotations

from dataclasses import dataclass, field


class ChallengeMissing(LookupError):
    """No challenge has this id."""


@dataclass(frozen=True, kw_only=True)
class NewChallenge:
    """What opening a challenge writes: every column chosen when it is posted."""

    guild_id: int
    channel_id: int
    problem_id: str
    pack_id: str
    kind: str
    difficulty: str
    answer: str
    letters: str  # "ABCD": the choices posted
    attempts_allowed: int
    opened_at: float  # UNIX seconds, UTC
    deadline: float
    scoring_mode: str
    hint_cost_percent: int
    starter_id: int = 0  # 0: nobody in particular (the column's default too)


@dataclass(frozen=True, kw_only=True)
class Challenge(NewChallenge):
    """A stored challenge: what was opened, plus its id and what happened to it since."""

    id: int
    message_id: int | None = None
    closed_at: float | None = None
    answered_count: int = 0
    revealed_at: float | None = None

    @property
    def time_limit(self) -> float:
        return self.deadline - self.opened_at

    def is_open(self, now: float) -> bool:
        return self.closed_at is None and now < self.deadline

    @property
    def ended_at(self) -> float:
        """When answers stopped counting: the deadline, or earlier if stopped."""
        return self.deadline if self.closed_at is None else min(self.closed_at, self.deadline)


@dataclass(frozen=True)
class MemberProgress:
    """What one member has done on one challenge so far."""

    attempts_used: int = 0
    solved_points: int | None = None  # set once they answered correctly
    hint_used: bool = False


@dataclass(frozen=True)
class Verdict:
    choice: str
    correct: bool
    attempt_no: int
    attempts_left: int
    points: int
    elapsed: float

    @property
    def final(self) -> bool:
        """The member is done with this problem: right, or out of attempts."""
        return self.correct or self.attempts_left == 0


@dataclass(frozen=True)
class Submission:
    challenge_id: int
    member_id: int
    choice: str
    now: float
    submission_id: str  # the interaction id: a retried submission is recognised by it
    display_name: str | None = None  # the member's name as they answered, for /export


@dataclass(frozen=True)
class AttemptFact:
    """One stored attempt, whatever asked the problem (a challenge, a practice, a badge run,
    a review): what the observers of answers (item analysis, spaced review) learn from. They
    see it inside the transaction that stores the attempt."""

    guild_id: int
    member_id: int
    mode: str  # 'challenge', 'practice', 'badge_run' or 'review'
    pack_id: str
    problem_id: str
    attempt_no: int
    choice: str
    correct: bool
    final: bool  # the member is done with this problem in this asking: right, or out of tries
    hint_used: bool
    elapsed: float  # seconds from the problem being shown to this answer
    time_limit: float | None  # the asking's timer; None when untimed (practice)
    answered_at: float


@dataclass(frozen=True)
class MemberSnapshot:
    """A member's totals after an answer, for the badge rules."""

    guild_id: int
    member_id: int
    points: int
    correct: int
    first_try: int
    streak: int
    solved_in_pack: dict[str, int]
    kinds_correct: frozenset[str]
    badges: frozenset[str]


@dataclass(frozen=True)
class AnswerResult:
    challenge: Challenge
    verdict: Verdict
    total_points: int
    streak: int
    new_badges: tuple[str, ...] = ()
    replayed: bool = False  # the same submission arrived twice; nothing new was written


@dataclass(frozen=True)
class GuildSettings:
    guild_id: int
    challenge_channel_id: int | None = None
    time_limit: int | None = None  # None: each problem's own
    scoring_mode: str = "speed"
    hint_cost_percent: int = 25
    multiple_per_channel: bool = False
    discussion_thread: bool = False
    timezone: str = "UTC"  # an IANA name: periods and the weekly post follow it
    weekly_channel_id: int | None = None  # None: no weekly results post
    weekly_day: int | None = None  # 0 Monday .. 6 Sunday
    weekly_time: str | None = None  # "HH:MM" in the server's zone


@dataclass(frozen=True)
class LeaderboardRow:
    rank: int
    member_id: int
    points: int


@dataclass(frozen=True)
class Leaderboard:
    period: str
    scope: str
    rows: tuple[LeaderboardRow, ...]
    total_members: int
    me: LeaderboardRow | None = None


@dataclass(frozen=True)
class KindStats:
    kind: str
    answered: int
    correct: int

    @property
    def accuracy(self) -> float:
        return self.correct / self.answered if self.answered else 0.0


@dataclass(frozen=True)
class Profile:
    guild_id: int
    member_id: int
    points: int = 0
    answered: int = 0
    correct: int = 0
    attempts: int = 0
    hints: int = 0
    streak: int = 0
    best_streak: int = 0
    kinds: tuple[KindStats, ...] = ()
    badges: tuple[tuple[str, float], ...] = ()  # (badge id, awarded at)
    solved: dict[str, int] = field(default_factory=dict)  # pack id -> problems solved


@dataclass(frozen=True)
class Reveal:
    challenge: Challenge
    spread: dict[str, int]  # choice -> members whose first answer it was
    participants: int
    solvers: int
    first_solver: int | None
    first_solved_at: float | None
    badges: tuple[tuple[int, str], ...] = ()  # (member, badge) awarded by this challenge


@dataclass(frozen=True, kw_only=True)
class NewSchedule:
    """What /schedule add stores: when, where, and which problems."""

    guild_id: int
    channel_id: int
    time_of_day: str | None  # "HH:MM"; None when `days` is a cron expression
    days: str  # "every day", "weekdays", "weekends", "mon,wed,fri", or a 5-field cron
    timezone: str
    pack_id: str | None = None
    difficulty: str | None = None
    kind: str | None = None
    ping_role_id: int | None = None
    created_by: int
    created_at: float


@dataclass(frozen=True, kw_only=True)
class Schedule(NewSchedule):
    id: int
    paused_reason: str | None = None  # None while it runs
    last_fire_at: float | None = None  # the scheduled instant of its last run
    last_outcome: str | None = None

    @property
    def job(self) -> str:
        """Its key in the fire record."""
        return f"schedule:{self.id}"


class ScheduleLimitReached(Exception):
    """The server already has the most schedules it may have."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"at most {limit} schedules per server")
        self.limit = limit


class RunMissing(LookupError):
    def __init__(self, run_id: int) -> None:
        super().__init__(f"no run {run_id}")
        self.run_id = run_id


@dataclass(frozen=True, kw_only=True)
class Run:
    """A member's private run of problems: a practice, a badge run or a review."""

    id: int
    guild_id: int
    member_id: int
    mode: str  # 'practice', 'badge_run' or 'review'
    pack_id: str | None
    kind: str | None
    problem_ids: tuple[str, ...]
    position: int  # the problem being answered; == len(problem_ids) once all are done
    step_started_at: float | None  # when the current problem was shown; None: not yet
    started_at: float
    ended_at: float | None
    status: str  # 'active', 'finished' or 'abandoned'

    @property
    def current(self) -> str | None:
        """The problem being answered, or None when every problem so far is done."""
        return self.problem_ids[self.position] if self.position < len(self.problem_ids) else None

    @property
    def active(self) -> bool:
        return self.status == "active"


@dataclass(frozen=True)
class StepState:
    """What the member has done on the current problem of a run so far."""

    attempts_used: int = 0
    solved: bool = False
    hint_used: bool = False


@dataclass(frozen=True)
class StepOutcome:
    """What one click on a run's problem did."""

    run: Run  # as it is after the click
    problem_id: str
    verdict: Verdict | None  # None when the time had run out: nothing was recorded
    timed_out: bool = False
    new_badges: tuple[str, ...] = ()
    replayed: bool = False

    @property
    def step_done(self) -> bool:
        return self.timed_out or (self.verdict is not None and self.verdict.final)


@dataclass(frozen=True)
class RunStep:
    """One problem of a run, as its summary shows it."""

    position: int
    problem_id: str
    attempts: int
    correct: bool
    points: int
    hint_used: bool
    seconds: float | None  # from the problem being shown to the last answer; None: no answer


@dataclass(frozen=True)
class PracticeFigures:
    """A member's practice, kept apart from group scores."""

    answered: int = 0  # problems finished in practice
    first_try: int = 0  # of those, right on the first try without a hint
    badge_runs: int = 0  # badge runs finished
    perfect_runs: int = 0  # of those, with every problem right
