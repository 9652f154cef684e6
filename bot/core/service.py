"""ChallengeService: the use cases the bot and the terminal call. Knows no Discord."""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass

from bot.bank import Bank, Problem
from bot.core.badges import BadgeCatalogue, BadgeDef
from bot.core.challenge import check_can_act, policy_of
from bot.core.errors import (
    ChallengeError,
    ChallengeNotFound,
    ChannelBusy,
    NotAllowed,
    UnknownProblem,
)
from bot.core.rules import CoreRules
from bot.core.scoring import ScoringMode, hint_cost
from bot.store import Store
from bot.store.records import (
    AnswerResult,
    Challenge,
    ChallengeMissing,
    GuildSettings,
    NewChallenge,
    Reveal,
    Submission,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HintResult:
    problem: Problem
    cost: int  # points this member's correct answer will lose
    first_time: bool


class ChallengeService:
    def __init__(self, store: Store, bank: Bank, rules: CoreRules) -> None:
        self.store = store
        self.bank = bank
        self.rules = rules

    @property
    def catalogue(self) -> BadgeCatalogue:
        return self.rules.catalogue

    def problem_of(self, challenge: Challenge) -> Problem:
        problem = self.bank.problems.get(challenge.problem_id)
        if problem is None:
            raise UnknownProblem(f"problem '{challenge.problem_id}' is no longer loaded")
        return problem

    def pick_problem(self, *, pack: str | None = None, difficulty: str | None = None,
                     kind: str | None = None, recent: Sequence[str] = (),
                     rng: random.Random | None = None) -> Problem:
        """A matching problem the server has not seen yet, else the one seen longest ago.

        `recent` lists problem ids most recent first, so a group meets every problem of a
        pack before any comes back.
        """
        if pack is not None and pack not in self.bank.packs:
            raise UnknownProblem(f"no pack called '{pack}'")
        matching = [p for p in self.bank.problems.values()
                    if (pack is None or p.pack_id == pack)
                    and (difficulty is None or p.difficulty == difficulty)
                    and (kind is None or p.kind == kind)]
        if not matching:
            raise UnknownProblem("no problem matches those filters")
        fresh = [p for p in matching if p.id not in recent]
        if fresh:
            return (rng or random).choice(fresh)
        return max(matching, key=lambda p: list(recent).index(p.id))

    async def choose_problem(self, guild_id: int, *, pack: str | None = None,
                             difficulty: str | None = None, kind: str | None = None) -> Problem:
        recent = await self.store.challenges.recent_problems(guild_id)
        return self.pick_problem(pack=pack, difficulty=difficulty, kind=kind, recent=recent)

    async def start(self, *, guild_id: int, channel_id: int, starter_id: int, problem: Problem,
                    settings: GuildSettings, now: float) -> Challenge:
        """Opens a challenge; raises ChannelBusy if the server allows one per channel."""
        limit = settings.time_limit or problem.time_limit
        new = NewChallenge(
            guild_id=guild_id, channel_id=channel_id, problem_id=problem.id,
            pack_id=problem.pack_id, kind=problem.kind, difficulty=problem.difficulty,
            answer=problem.answer, letters="".join(problem.letters),
            attempts_allowed=problem.attempts, opened_at=now, deadline=now + limit,
            scoring_mode=ScoringMode(settings.scoring_mode).value,
            hint_cost_percent=settings.hint_cost_percent, starter_id=starter_id)
        opened = await self.store.challenges.open(new, exclusive=not settings.multiple_per_channel)
        if isinstance(opened, int):
            busy = await self.get(opened)
            raise ChannelBusy(busy.id, busy.deadline)
        log.info("challenge %d opened: guild=%d channel=%d problem=%s", opened.id, guild_id,
                 channel_id, problem.id)
        return opened

    async def get(self, challenge_id: int) -> Challenge:
        try:
            return await self.store.challenges.get(challenge_id)
        except ChallengeMissing:
            raise ChallengeNotFound(f"challenge {challenge_id}") from None

    async def answer(self, challenge_id: int, member_id: int, choice: str, now: float,
                     submission_id: str) -> AnswerResult:
        """Records one answer, committed before this returns; raises a ChallengeError."""
        submission = Submission(challenge_id, member_id, choice, now, submission_id)
        try:
            return await self.store.answers.record(submission)
        except ChallengeMissing:
            raise ChallengeNotFound(f"challenge {challenge_id}") from None

    async def hint(self, challenge_id: int, member_id: int, now: float) -> HintResult:
        """Shows the hint; on a problem the member can still answer, it lowers their points."""
        challenge = await self.get(challenge_id)
        problem = self.problem_of(challenge)
        progress = await self.store.challenges.progress(challenge_id, member_id)
        try:
            check_can_act(challenge, progress, now)
        except ChallengeError:
            return HintResult(problem, 0, False)  # closed or done with it: free to read
        first = await self.store.challenges.record_hint(challenge_id, member_id, now)
        return HintResult(problem, hint_cost(challenge.difficulty, policy_of(challenge)), first)

    async def close(self, challenge_id: int, now: float) -> Reveal | None:
        """Closes the challenge exactly once; returns the reveal to the one caller that did."""
        if not await self.store.challenges.close(challenge_id, now):
            return None
        log.info("challenge %d closed", challenge_id)
        return await self.store.challenges.reveal(challenge_id)

    async def close_for_reveal(self, challenge_id: int, now: float) -> Reveal | None:
        """The reveal still to be shown: closing the challenge if needed, or None if shown."""
        reveal = await self.close(challenge_id, now)
        if reveal is not None:
            return reveal
        challenge = await self.get(challenge_id)
        if challenge.revealed_at is not None:
            return None
        return await self.store.challenges.reveal(challenge_id)

    async def mark_revealed(self, challenge_id: int, now: float) -> None:
        await self.store.challenges.mark_revealed(challenge_id, now)

    @staticmethod
    def authorize_stop(challenge: Challenge, requester_id: int, is_admin: bool) -> None:
        """Only the member who started a challenge, or an admin, may end it early."""
        if requester_id != challenge.starter_id and not is_admin:
            raise NotAllowed("only the member who started this challenge or an admin "
                             "(Manage Server) can stop it")

    def badges(self, badge_ids: tuple[str, ...] | list[str]) -> list[BadgeDef]:
        return [b for b in (self.catalogue.get(i) for i in badge_ids) if b is not None]
