"""ChallengeService: the use cases the bot and the terminal call. Knows no Discord."""

from __future__ import annotations

import logging
import random
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from bot.bank import Bank, Problem
from bot.core.badges import BadgeCatalogue, BadgeDef
from bot.core.challenge import check_can_act, policy_of
from bot.core.errors import (
    ChallengeError,
    ChallengeNotFound,
    ChannelBusy,
    NoMatchingProblem,
    NotAllowed,
    PackDisabled,
    UnknownPack,
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
    """Every use case of a group challenge: pick, open, answer, hint, close, stop.

    Callbacks call these methods and render what they return; only this class talks to the
    store's challenge and answer repositories.
    """

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
            raise UnknownProblem(challenge.problem_id)
        return problem

    def pick_problem(self, *, pack: str | None = None, difficulty: str | None = None,
                     kind: str | None = None, recent: Sequence[str] = (),
                     rng: random.Random | None = None,
                     disabled: Collection[str] = ()) -> Problem:
        """A matching problem the server has not seen yet, else the one seen longest ago.

        `recent` lists problem ids most recent first, so a group meets every problem of a
        pack before any comes back. Packs the server turned off (`disabled`) are never drawn.
        """
        if pack is not None and pack not in self.bank.packs:
            raise UnknownPack(pack)
        if pack is not None and pack in disabled:
            raise PackDisabled(pack)
        matching = [p for p in self.bank.problems.values()
                    if (pack is None or p.pack_id == pack) and p.pack_id not in disabled
                    and (difficulty is None or p.difficulty == difficulty)
                    and (kind is None or p.kind == kind)]
        if not matching:
            raise NoMatchingProblem(pack, difficulty, kind)
        fresh = [p for p in matching if p.id not in recent]
        if fresh:
            return (rng or random).choice(fresh)
        return max(matching, key=lambda p: list(recent).index(p.id))

    async def choose_problem(self, guild_id: int, *, pack: str | None = None,
                             difficulty: str | None = None, kind: str | None = None) -> Problem:
        recent = await self.store.challenges.recent_problems(guild_id)
        disabled = await self.store.settings.disabled_packs(guild_id)
        return self.pick_problem(pack=pack, difficulty=difficulty, kind=kind, recent=recent,
                                 disabled=disabled)

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
                     submission_id: str, display_name: str | None = None) -> AnswerResult:
        """Records one answer, committed before this returns; raises a ChallengeError.

        The whole click is one transaction, run by the store's group commit
        (`AnswerRecorder._record_one` in bot/store/answers.py). Inside it the store applies
        this core's rules (`CoreRules` in bot/core/rules.py: judge, streak, periods, badges)
        to committed state, so two clicks can never both count.
        """
        submission = Submission(challenge_id, member_id, choice, now, submission_id,
                                display_name)
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

    async def attach_message(self, challenge_id: int, message_id: int) -> None:
        """Remembers the post of a challenge, so its reveal can edit it after a restart."""
        await self.store.challenges.set_message(challenge_id, message_id)

    async def close(self, challenge_id: int, now: float) -> Reveal | None:
        """Stops answers counting, exactly once; the one caller that closed it gets the
        summary to show, every other caller None."""
        if not await self.store.challenges.close(challenge_id, now):
            return None
        log.info("challenge %d closed", challenge_id)
        return await self.store.challenges.reveal_summary(challenge_id)

    async def unshown_reveal(self, challenge_id: int, now: float) -> Reveal | None:
        """The summary still to be shown: closing the challenge if needed; None once shown."""
        summary = await self.close(challenge_id, now)
        if summary is not None:
            return summary
        challenge = await self.get(challenge_id)
        if challenge.revealed_at is not None:
            return None
        return await self.store.challenges.reveal_summary(challenge_id)

    async def mark_revealed(self, challenge_id: int, now: float) -> None:
        """Records that the reveal was shown (or can never be), so start-up won't redo it."""
        await self.store.challenges.mark_revealed(challenge_id, now)

    async def abandon(self, challenge_id: int, now: float) -> None:
        """A challenge whose post failed: closed and marked shown, so it blocks no channel."""
        await self.close(challenge_id, now)
        await self.mark_revealed(challenge_id, now)

    async def open_challenges(self) -> list[Challenge]:
        """Every challenge still taking answers, soonest deadline first."""
        return await self.store.challenges.open_ones()

    async def unfinished_reveals(self) -> list[Challenge]:
        """Closed challenges whose reveal a crash or a failed edit left unshown."""
        return await self.store.challenges.unrevealed()

    async def closed_count(self) -> int:
        return await self.store.challenges.closed_count()

    async def is_running(self, guild_id: int, problem_id: str) -> bool:
        """Whether this problem is a challenge still taking answers in the server."""
        return await self.store.challenges.live_problem(guild_id, problem_id)

    async def to_stop(self, channel_ids: set[int], requester_id: int) -> Challenge | None:
        """What /challenge-stop ends: the requester's own newest open challenge in these
        channels, else the newest one; None if none is open."""
        running = [c for channel in sorted(channel_ids)
                   for c in await self.store.challenges.open_in_channel(channel)]
        if not running:
            return None
        mine = [c for c in running if c.starter_id == requester_id]
        return max(mine or running, key=lambda c: c.opened_at)

    @staticmethod
    def authorize_stop(challenge: Challenge, requester_id: int, is_admin: bool) -> None:
        """Only the member who started a challenge, or an admin, may end it early."""
        if requester_id != challenge.starter_id and not is_admin:
            raise NotAllowed("only the member who started this challenge or an admin "
                             "(Manage Server) can stop it")

    def badges(self, badge_ids: tuple[str, ...] | list[str]) -> list[BadgeDef]:
        return [b for b in (self.catalogue.get(i) for i in badge_ids) if b is not None]
