"""The private sentences a member reads after a click or a refused command."""

from __future__ import annotations

import re

import discord

from bot.core.badges import BadgeDef
from bot.core.errors import (
    AlreadySolved,
    BadgeRunInProgress,
    ChallengeClosed,
    ChallengeError,
    ChallengeNotFound,
    ChannelBusy,
    InvalidChoice,
    LastPack,
    NoAttemptsLeft,
    NoMatchingProblem,
    NotAllowed,
    NothingToReview,
    NotYourRun,
    PackDisabled,
    RunNotFound,
    RunOver,
    StaleStep,
    UnknownPack,
    UnknownProblem,
)
from bot.store.records import AnswerResult

MESSAGE_LIMIT = 2000  # characters of a message's content on Discord
ECHO_LIMIT = 60  # of a member's own text, quoted back to them
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]+")


def quoted(text: str, limit: int = ECHO_LIMIT) -> str:
    """A member's own text, safe to echo: one line, clipped, markdown and mentions defused,
    in their own case."""
    flat = CONTROL.sub(" ", text).strip()
    if len(flat) > limit:
        flat = flat[: limit - 1].rstrip() + "…"
    escaped = discord.utils.escape_mentions(discord.utils.escape_markdown(flat))
    return f"“{escaped}”" if escaped else "“”"


def clip_message(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """Last line of defence: content Discord would refuse is cut, never sent whole."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


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
            return (f"⏰ This challenge closed {ts(error.ended_at)}; answers no longer count. "
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
        case UnknownPack():
            return (f"🤔 There's no pack called {quoted(error.name)}. Pick one from the list "
                    "as you type, or leave `pack` empty for any pack.")
        case NoMatchingProblem():
            return "🤔 No problem matches those filters; try fewer of them."
        case UnknownProblem():
            return "🤔 That problem is no longer loaded; an admin may have removed its pack."
        case PackDisabled():
            return (f"🚫 The pack `{error.pack_id}` is turned off on this server. An admin can "
                    "turn it on with `/tutor packs`; `/packs` lists the packs that are on.")
        case LastPack():
            return "At least one pack must stay on, or challenges would have nothing to draw."
        case NotYourRun():
            return ("🔒 That's someone else's private run. Start your own with /practice or "
                    "/badge-run.")
        case RunOver():
            return f"This run is {error.status}. Start a new one with /practice or /badge-run."
        case StaleStep():
            return "You've already moved past that problem; carry on from your latest message."
        case RunNotFound():
            return "I can't find that run any more."
        case BadgeRunInProgress():
            return (f"You have a badge run in progress (problem {error.position + 1} of "
                    f"{error.size}). Resume it, or stop it to start another.")
        case NothingToReview():
            if error.next_due is None:
                return ("📭 Nothing to review yet. Problems you miss or need a hint for, in a "
                        "challenge, a practice or a badge run, come back here at the right time.")
            return f"✅ All caught up! Your next review is due {ts(error.next_due)}."
    return "Sorry, that didn't work."
