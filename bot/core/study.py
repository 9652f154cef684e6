"""StudyService: the use cases of a member's private study (/practice, /badge-run, /review).
Knows no Discord; the rules are in bot/core/runs.py, the SQL in bot/store/runs.py."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.bank import Bank, Problem
from bot.core import runs as rules
from bot.core.errors import (
    BadgeRunInProgress,
    NoMatchingProblem,
    NothingToReview,
    RunNotFound,
    UnknownPack,
    UnknownProblem,
)
from bot.core.review import REVIEW_BATCH
from bot.core.scoring import ScoringPolicy, policy
from bot.store import Store
from bot.store.records import (
    AttemptFact,
    PracticeFigures,
    Run,
    RunMissing,
    RunStep,
    StepOutcome,
    StepState,
    Verdict,
)

REVIEW_LOOKAHEAD = 10 * REVIEW_BATCH  # due cards read to find a batch of installed problems


@dataclass(frozen=True)
class StepHint:
    problem: Problem
    cost: int  # points this hint takes off a right answer (badge runs only)
    first_time: bool


@dataclass(frozen=True)
class Started:
    run: Run
    abandoned: Run | None = None  # a badge run left too long, abandoned to start this one


class StepRules:
    """The core's rules handed to the store's transaction for one answer."""

    def __init__(self, bank: Bank, scoring: ScoringPolicy) -> None:
        self.bank, self.scoring = bank, scoring

    def problem(self, run: Run, position: int) -> Problem:
        problem_id = run.problem_ids[position]
        problem = self.bank.problems.get(problem_id)
        if problem is None:
            raise UnknownProblem(problem_id)
        return problem

    def check(self, run: Run, member_id: int, position: int) -> None:
        rules.check_step(run, member_id, position)
        rules.check_on_screen(run)

    def judge(self, run: Run, state: StepState, choice: str, now: float) -> Verdict | None:
        problem = self.problem(run, run.position)
        if rules.timed_out(run, problem, now):
            return None
        return rules.judge_step(run, problem, state, choice, now, self.scoring)

    def fact(self, run: Run, state: StepState, verdict: Verdict, now: float) -> AttemptFact:
        problem = self.problem(run, run.position)
        return AttemptFact(
            guild_id=run.guild_id, member_id=run.member_id, mode=run.mode,
            pack_id=problem.pack_id, problem_id=problem.id, attempt_no=verdict.attempt_no,
            choice=verdict.choice, correct=verdict.correct, final=verdict.final,
            hint_used=state.hint_used, elapsed=verdict.elapsed,
            time_limit=rules.rating_time(run, problem), answered_at=now)

    def mastery_badge(self, run: Run) -> str | None:
        if run.mode != rules.BADGE_RUN or run.pack_id is None:
            return None
        return rules.mastery_badge_id(run.pack_id)


class StudyService:
    def __init__(self, store: Store, bank: Bank, clock: Callable[[], float],
                 rng: random.Random | None = None) -> None:
        self.store, self.bank, self.clock = store, bank, clock
        self.rng = rng or random.Random()

    # ---- starting ---------------------------------------------------------------------

    async def start_practice(self, guild_id: int, member_id: int, *, pack: str | None,
                             kind: str | None) -> Run:
        first = self.pick_practice(pack, kind, seen=(),
                                   disabled=await self._off_unless_chosen(guild_id, pack))
        run = await self.store.runs.create(guild_id=guild_id, member_id=member_id,
                                           mode=rules.PRACTICE, pack_id=pack, kind=kind,
                                           problem_ids=[first.id], now=self.clock())
        assert run is not None  # only badge runs are one at a time
        return run

    async def start_badge_run(self, guild_id: int, member_id: int, pack: str) -> Started:
        """The pack's problems in order, the first shown now; raises BadgeRunInProgress if
        one is going (a run left for more than an hour is abandoned instead)."""
        if pack not in self.bank.packs:
            raise UnknownPack(pack)
        abandoned = await self._abandon_if_stale(guild_id, member_id)
        problems = [p.id for p in self.bank.packs[pack].problems]
        run = await self.store.runs.create(guild_id=guild_id, member_id=member_id,
                                           mode=rules.BADGE_RUN, pack_id=pack, kind=None,
                                           problem_ids=problems, now=self.clock())
        if run is None:
            active = await self.store.runs.active_badge_run(guild_id, member_id)
            if active is None:  # it ended between the two reads: try once more
                return await self.start_badge_run(guild_id, member_id, pack)
            raise BadgeRunInProgress(active[0].id, active[0].position,
                                     len(active[0].problem_ids))
        return Started(run, abandoned)

    async def start_review(self, guild_id: int, member_id: int) -> Run:
        """The member's due review cards, longest overdue first, at most REVIEW_BATCH; cards
        of problems no longer installed are passed over. Raises NothingToReview."""
        now = self.clock()
        due = await self.store.reviews.due(guild_id, member_id, now, REVIEW_LOOKAHEAD)
        loaded = [c.problem_id for c in due if c.problem_id in self.bank.problems]
        if not loaded:
            queue = await self.store.reviews.summary(guild_id, member_id, now)
            raise NothingToReview(queue.next_due if queue.cards else None)
        run = await self.store.runs.create(guild_id=guild_id, member_id=member_id,
                                           mode=rules.REVIEW, pack_id=None, kind=None,
                                           problem_ids=loaded[:REVIEW_BATCH], now=now)
        assert run is not None
        return run

    async def _abandon_if_stale(self, guild_id: int, member_id: int) -> Run | None:
        active = await self.store.runs.active_badge_run(guild_id, member_id)
        if active is None:
            return None
        run, touched = active
        if not rules.is_stale(run, touched, self.clock()):
            return None
        await self.store.runs.abandon(run.id, self.clock())
        return await self.get(run.id)

    async def _off_unless_chosen(self, guild_id: int, pack: str | None) -> frozenset[str]:
        """Practice on any pack draws from the packs the server has on; a pack a member
        names is theirs to practise, on or off."""
        return frozenset() if pack else await self.store.settings.disabled_packs(guild_id)

    def pick_practice(self, pack: str | None, kind: str | None, seen: Sequence[str],
                      disabled: frozenset[str] = frozenset()) -> Problem:
        """A matching problem not practised in this session yet; once all were, any but
        the last one."""
        if pack is not None and pack not in self.bank.packs:
            raise UnknownPack(pack)
        matching = [p for p in self.bank.problems.values()
                    if (pack is None or p.pack_id == pack) and p.pack_id not in disabled
                    and (kind is None or p.kind == kind)]
        if not matching:
            raise NoMatchingProblem(pack, None, kind)
        fresh = [p for p in matching if p.id not in seen]
        if not fresh:
            fresh = [p for p in matching if not seen or p.id != seen[-1]] or matching
        return self.rng.choice(fresh)

    # ---- steps ------------------------------------------------------------------------

    async def get(self, run_id: int) -> Run:
        try:
            return await self.store.runs.get(run_id)
        except RunMissing:
            raise RunNotFound(f"run {run_id}") from None

    def problem_at(self, run: Run, position: int) -> Problem:
        problem = self.bank.problems.get(run.problem_ids[position])
        if problem is None:
            raise UnknownProblem(run.problem_ids[position])
        return problem

    async def answer(self, run_id: int, member_id: int, position: int, choice: str,
                     submission_id: str, display_name: str | None) -> StepOutcome:
        """Records one answer on the run's current problem; committed before it returns."""
        run = await self.get(run_id)
        settings = await self.store.settings.get(run.guild_id)
        step_rules = StepRules(self.bank, policy(settings.scoring_mode,
                                                  settings.hint_cost_percent))
        try:
            return await self.store.runs.answer(run_id, member_id, position, choice,
                                                self.clock(), submission_id, display_name,
                                                step_rules)
        except RunMissing:
            raise RunNotFound(f"run {run_id}") from None

    async def hint(self, run_id: int, member_id: int, position: int) -> StepHint:
        run = await self.get(run_id)
        rules.check_step(run, member_id, position)
        rules.check_on_screen(run)
        problem = self.problem_at(run, position)
        state = await self.store.runs.state(run_id, position)
        if state.solved:
            return StepHint(problem, 0, False)
        settings = await self.store.settings.get(run.guild_id)
        cost = rules.hint_cost_in(run, problem, policy(settings.scoring_mode,
                                                       settings.hint_cost_percent))
        first = await self.store.runs.hint(run_id, position, self.clock())
        return StepHint(problem, cost, first)

    async def show_next(self, run_id: int, member_id: int, position: int) -> Run:
        """The run at its current problem, timer started; a practice draws a new problem
        when the last one is done. A run that is over comes back as it is, for its summary."""
        run = await self.get(run_id)
        if run.member_id == member_id and not run.active:
            return run
        rules.check_step(run, member_id, position)
        append = None
        if run.mode == rules.PRACTICE and run.current is None:
            off = await self._off_unless_chosen(run.guild_id, run.pack_id)
            append = self.pick_practice(run.pack_id, run.kind, run.problem_ids, off).id
        run = await self.skip_uninstalled(await self.store.runs.show(run_id, self.clock(),
                                                                     append))
        return run

    async def skip_uninstalled(self, run: Run) -> Run:
        """A problem removed by an upgrade since the run began counts as unanswered and the
        run moves on, so no run is stuck on it."""
        while run.active and run.current is not None and run.current not in self.bank.problems:
            run = await self.store.runs.skip(run.id, run.position, self.clock())
            if run.active and run.current is not None:
                run = await self.store.runs.show(run.id, self.clock())
        return run

    async def resume(self, run_id: int, member_id: int) -> Run:
        """A badge run picked up again: a problem whose time ran out meanwhile counts as
        unanswered, and the run goes on from the next one."""
        run = await self.get(run_id)
        rules.check_step(run, member_id, run.position)
        problem = self.bank.problems.get(run.current) if run.current else None
        if problem is not None and rules.timed_out(run, problem, self.clock()):
            run = await self.store.runs.skip(run_id, run.position, self.clock())
        if not run.active or run.current is None:
            return run
        return await self.skip_uninstalled(await self.store.runs.show(run_id, self.clock()))

    async def stop(self, run_id: int, member_id: int) -> Run:
        """Ends a run on the member's request: a practice is finished, a badge run or a
        review left half way is abandoned."""
        run = await self.get(run_id)
        rules.check_step(run, member_id, run.position)
        if run.mode == rules.PRACTICE:
            await self.store.runs.finish(run_id, self.clock())
        else:
            await self.store.runs.abandon(run_id, self.clock())
        return await self.get(run_id)

    async def steps(self, run: Run) -> list[RunStep]:
        return await self.store.runs.steps(run)

    async def practice_figures(self, guild_id: int, member_id: int) -> PracticeFigures:
        return await self.store.runs.practice_figures(guild_id, member_id)
