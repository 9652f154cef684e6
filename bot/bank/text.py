"""The text a problem renders to, shared by the Discord UI, the terminal and the limit checks.

Keeping it here means the loader checks Discord's limits against exactly what is posted.
"""

from __future__ import annotations

from bot.bank.model import Problem

# Discord's limits (https://discord.com/developers/docs/resources/message#embed-object-embed-limits).
EMBED_TITLE_LIMIT = 256
EMBED_DESCRIPTION_LIMIT = 4096
EMBEDS_TOTAL_LIMIT = 6000
# Room kept for what is added at run time: countdown, rules, "N answered", the answer bars,
# the first solver and the new badges (capped at BADGES_FIELD_LIMIT).
BADGES_FIELD_LIMIT = 600
DYNAMIC_RESERVE = 1000 + BADGES_FIELD_LIMIT
HINT_LIMIT = 1000  # sent as message content (2,000 at most) with a line of its own


def choices_block(problem: Problem) -> str:
    return "\n".join(f"**{letter}.** {text}" for letter, text in problem.choices.items())


def code_block(code: str) -> str:
    return f"```python\n{code.rstrip()}\n```"


def challenge_body(problem: Problem) -> str:
    """Prompt, code and choices: the fixed part of the challenge embed's description."""
    parts = [problem.prompt.strip()]
    if problem.code:
        parts.append(code_block(problem.code))
    parts.append(choices_block(problem))
    return "\n\n".join(parts)


def why_not_block(problem: Problem) -> str:
    return "\n".join(
        f"**{letter}.** {problem.why_not[letter]}"
        for letter in problem.letters
        if letter in problem.why_not
    )


def reveal_body(problem: Problem) -> str:
    """The explanation shown at the reveal: why the key is right, then why the others are not."""
    key = f"**{problem.answer}.** {problem.choices[problem.answer]}"
    parts = [f"✅ {key}", problem.explanation.strip()]
    others = why_not_block(problem)
    if others:
        parts.append(f"**Why not the others**\n{others}")
    if problem.sources:
        parts.append(sources_block(problem))
    return "\n\n".join(parts)


def sources_block(problem: Problem) -> str:
    """Where to read more: the pages that back the key, as links where they have an address."""
    lines = [f"- [{_link_text(s.label())}](<{s.url}>)" if s.url else f"- {s.label()}"
             for s in problem.sources]
    return "📚 **Read more**\n" + "\n".join(lines)


def _link_text(label: str) -> str:
    return label.replace("[", "(").replace("]", ")")  # a bracket would end the link early


def message_size(problem: Problem) -> int:
    """Characters of the revealed post (challenge and reveal embeds), as Discord counts them."""
    return (
        2 * len(problem.title)
        + len(challenge_body(problem))
        + len(reveal_body(problem))
        + len(problem.hint)
        + DYNAMIC_RESERVE
    )
