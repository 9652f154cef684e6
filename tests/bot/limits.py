"""Discord's size limits, checked on every payload the bot sent (simcord does not enforce them).

https://discord.com/developers/docs/resources/message and .../interactions: content 2,000;
embed title 256, description 4,096, 25 fields of name 256 and value 1,024, footer 2,048,
author 256, 6,000 across a message's embeds; 5 rows of 5 buttons, labels 80, custom ids 100;
25 autocomplete choices of 100.
"""

from __future__ import annotations

from typing import Any

EMBED_PARTS = (("title", 256), ("description", 4096))


def embed_problems(embed: dict[str, Any]) -> tuple[list[str], int]:
    problems, total = [], 0
    for key, limit in EMBED_PARTS:
        size = len(embed.get(key) or "")
        total += size
        if size > limit:
            problems.append(f"embed {key} has {size} > {limit}")
    fields = embed.get("fields") or []
    if len(fields) > 25:
        problems.append(f"{len(fields)} embed fields > 25")
    for field in fields:
        name, value = len(field.get("name", "")), len(field.get("value", ""))
        total += name + value
        if name > 256 or value > 1024 or not value or not name:
            problems.append(f"embed field sizes {name}/{value} outside 1..256/1..1024")
    for key, inner, limit in (("footer", "text", 2048), ("author", "name", 256)):
        size = len((embed.get(key) or {}).get(inner) or "")
        total += size
        if size > limit:
            problems.append(f"embed {key} has {size} > {limit}")
    return problems, total


def message_problems(message: dict[str, Any]) -> list[str]:
    problems = []
    content = message.get("content") or ""
    if len(content) > 2000:
        problems.append(f"content has {len(content)} characters > 2000")
    total = 0
    for embed in message.get("embeds") or []:
        found, size = embed_problems(embed)
        problems += found
        total += size
    if total > 6000:
        problems.append(f"embeds hold {total} characters > 6000")
    problems += component_problems(message.get("components") or [])
    choices = message.get("choices")
    if choices is not None:
        if len(choices) > 25:
            problems.append(f"{len(choices)} autocomplete choices > 25")
        problems += [f"choice {c!r} too long" for c in choices
                     if len(c["name"]) > 100 or len(str(c["value"])) > 100]
    return problems


def component_problems(rows: list[dict[str, Any]]) -> list[str]:
    problems = [] if len(rows) <= 5 else [f"{len(rows)} component rows > 5"]
    for row in rows:
        children = row.get("components") or []
        if len(children) > 5:
            problems.append(f"{len(children)} components in a row > 5")
        for child in children:
            if len(child.get("label") or "") > 80:
                problems.append(f"button label {child['label']!r} > 80")
            if len(child.get("custom_id") or "") > 100:
                problems.append(f"custom id {child['custom_id']!r} > 100")
    return problems


def sent_messages(env: Any) -> list[tuple[str, dict[str, Any]]]:
    """(where, message payload) for every message the bot posted, edited or replied."""
    found = []
    for entry in env.http_requests:
        body = entry.json
        if not isinstance(body, dict) or entry.method not in ("POST", "PATCH"):
            continue
        if entry.path.startswith("/interactions/"):
            body = body.get("data") or {}
        found.append((f"{entry.method} {entry.path}", body))
    return found


def over_discord_limits(env: Any) -> list[str]:
    return [f"{where}: {problem}" for where, message in sent_messages(env)
            for problem in message_problems(message)]
