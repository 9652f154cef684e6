"""Typed errors of the challenge rules; the UI turns each into a friendly private reply."""

from __future__ import annotations


class ChallengeError(Exception):
    """Base of every rule a member's action can break."""


class ChallengeNotFound(ChallengeError):
    pass


class ChallengeClosed(ChallengeError):
    def __init__(self, deadline: float) -> None:
        super().__init__("the challenge is closed")
        self.deadline = deadline


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
    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what
