"""Typed errors of the challenge rules; the UI turns each into a friendly private reply."""

from __future__ import annotations


class ChallengeError(Exception):
    """Base of every rule a member's action can break."""


class ChallengeNotFound(ChallengeError):
    pass


class ChallengeClosed(ChallengeError):
    def __init__(self, ended_at: float) -> None:
        super().__init__("the challenge is closed")
        self.ended_at = ended_at  # the deadline, or earlier if it was stopped


class AlreadySolved(ChallengeError):
    def __init__(self, points: int) -> None:
        super().__init__("already answered correctly")
        self.points = points


class NoAttemptsLeft(ChallengeError):
    def __init__(self, attempts: int) -> None:
        super().__init__("no attempts left")
        self.attempts = attempts


class InvalidChoice(ChallengeError):
    def __init__(self, choice: str, letters: str) -> None:
        super().__init__(f"{choice!r} is not one of {letters}")
        self.choice = choice
        self.letters = letters


class ChannelBusy(ChallengeError):
    """One open challenge per channel unless the server allows more."""

    def __init__(self, challenge_id: int, deadline: float) -> None:
        super().__init__("a challenge is already open in this channel")
        self.challenge_id = challenge_id
        self.deadline = deadline


class NotAllowed(ChallengeError):
    """Stopping someone else's challenge without Manage Server, for example."""


class UnknownProblem(ChallengeError):
    """A problem id that no loaded pack holds (a pack was removed, or a stale id)."""

    def __init__(self, problem_id: str) -> None:
        super().__init__(f"no problem called {problem_id!r} is loaded")
        self.problem_id = problem_id


class UnknownPack(ChallengeError):
    """A pack name a member typed that no loaded pack has; it may be any text at all."""

    def __init__(self, name: str) -> None:
        super().__init__("no pack with that name")
        self.name = name


class NoMatchingProblem(ChallengeError):
    """The filters of a request leave no problem to pick."""

    def __init__(self, pack: str | None, difficulty: str | None, kind: str | None) -> None:
        super().__init__("no problem matches those filters")
        self.pack, self.difficulty, self.kind = pack, difficulty, kind


class RunNotFound(ChallengeError):
    """A run id that isn't there (a button from another database, or a removed run)."""


class NotYourRun(ChallengeError):
    """A click on someone else's private run (a forwarded or copied button)."""


class RunOver(ChallengeError):
    """The run finished or was abandoned; its old buttons do nothing."""

    def __init__(self, status: str) -> None:
        super().__init__(f"the run is {status}")
        self.status = status


class StaleStep(ChallengeError):
    """A button of a problem the run has moved past."""


class BadgeRunInProgress(ChallengeError):
    """One badge run at a time per member."""

    def __init__(self, run_id: int, position: int, size: int) -> None:
        super().__init__("a badge run is already in progress")
        self.run_id, self.position, self.size = run_id, position, size


class NothingToReview(ChallengeError):
    """No review card is due; `next_due` says when one will be (None: no cards at all)."""

    def __init__(self, next_due: float | None) -> None:
        super().__init__("no card is due")
        self.next_due = next_due


class PackDisabled(ChallengeError):
    """The server turned this pack off for group challenges and schedules."""

    def __init__(self, pack_id: str) -> None:
        super().__init__(f"the pack {pack_id!r} is turned off on this server")
        self.pack_id = pack_id


class LastPack(ChallengeError):
    """Turning off every pack would leave challenges nothing to draw from."""
