"""The private sentences a member reads after a click or a refused command."""

from __future__ import annotations

from bot.core.badges import BadgeDef
from bot.core.errors import (
    AlreadySolved,
    ChallengeClosed,
    ChallengeError,
    ChallengeNotFound,
    ChannelBusy,
    InvalidChoice,
    NoAttemptsLeft,
    NotAllowed,
    UnknownProblem,
)
from bot.store.records import AnswerResult


def ts(unix: float, style: str = "R") -> str:
    """A Discord timestamp: every client renders it in the reader's own zone, live."""
    return f"<t:{int(unix)}:{style}>"


def permission_label(name: str) -> str:
    """Discord's own name for a permission, as members see it in the server settings."""
    return {"manage_guild": "Manage Server"}.get(name, name.replace("_", " ").title())


def badge_line(badge: BadgeDef) -> str:
    return f"{badge.emoji} **{badge.name}**: {badge.description}"


def answer_reply(result: AnswerResult, badges: list[BadgeDef]) -> str:
    verdict, challenge = result.verdict, result.challenge
    if verdict.correct:
        lines = [f"✅ **Correct!** +{verdict.points} points · total {result.total_points}"
                 f" · streak {result.streak}{' 🔥' if result.streak >= 3 else ''}"]
        lines += [f"🏅 New badge! {badge_line(b)}" for b in badges]
        return "\n".join(lines)
    if verdict.attempts_left:
        left = verdict.attempts_left
        return f"❌ Not quite. {left} attempt{'s' if left != 1 else ''} left."
    return ("❌ Not quite, and that was your last attempt. The answer is revealed "
            f"{ts(challenge.deadline)}.")


def error_reply(error: ChallengeError) -> str:
    match error:
        case ChallengeClosed():
            return (f"⏰ This challenge closed {ts(error.deadline)}; answers no longer count. "
                    "Watch for the next one!")
        case AlreadySolved():
            return f"✅ You already solved this one (+{error.points} points). Nice!"
        case NoAttemptsLeft():
            return (f"You've used all {error.attempts} attempts on this one. "
                    "The answer comes with the reveal.")
        case InvalidChoice():
            return f"That choice isn't on this problem (choose {', '.join(error.letters)})."
        case ChannelBusy():
            return (f"A challenge is already running here; it ends {ts(error.deadline)}. "
                    "Try again after the reveal.")
        case ChallengeNotFound():
            return "I can't find that challenge any more."
        case NotAllowed():
            return f"🚫 Sorry, {error}."
        case UnknownProblem():
            return f"🤔 {error.what.capitalize()}."
    return "Sorry, that didn't work."
