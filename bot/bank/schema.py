"""A JSON Schema of pack.yaml for editors (VS Code's YAML extension, JetBrains).

The loader's checks are stricter (answer among the choices, unique ids, Discord's limits);
the schema gives authors completion and early feedback while typing.
"""

from __future__ import annotations

from typing import Any

from bot.bank.model import ATTEMPTS_RANGE, CHOICE_LETTERS, DIFFICULTIES, KINDS, TIME_LIMIT_RANGE
from bot.bank.validate import (
    ID_PATTERN,
    MAX_SOURCES,
    SCRIPT_PATTERN,
    SOURCE_TEXT_LIMIT,
    TITLE_LIMIT,
    URL_LIMIT,
    URL_PATTERN,
)

TEXT = {"type": "string", "minLength": 1}


def _time_limit() -> dict[str, Any]:
    low, high = TIME_LIMIT_RANGE
    return {"type": "integer", "minimum": low, "maximum": high, "description": "seconds"}


def _attempts() -> dict[str, Any]:
    low, high = ATTEMPTS_RANGE
    return {"type": "integer", "minimum": low, "maximum": high}


def _letters_map(description: str) -> dict[str, Any]:
    return {
        "type": "object",
        "description": description,
        "propertyNames": {"enum": list(CHOICE_LETTERS)},
        "additionalProperties": TEXT,
    }


def _problem() -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["id", "kind", "difficulty", "title", "prompt", "choices", "answer", "hint",
                     "explanation"],
        # A key no experiment checks names its sources.
        "anyOf": [{"required": ["experiment"]}, {"required": ["sources"]}],
        "properties": {
            "id": {"type": "string", "pattern": f"^{ID_PATTERN.pattern}$"},
            "kind": {"enum": list(KINDS)},
            "difficulty": {"enum": list(DIFFICULTIES)},
            "title": {**TEXT, "maxLength": TITLE_LIMIT},
            "prompt": TEXT,
            "code": {**TEXT, "description": "Python shown as a code block"},
            "choices": {**_letters_map("A, B, C, … in order"), "minProperties": 2,
                        "maxProperties": len(CHOICE_LETTERS)},
            "answer": {"enum": list(CHOICE_LETTERS)},
            "hint": TEXT,
            "explanation": {**TEXT, "description": "why the key is right"},
            "why_not": _letters_map("for each other choice, why it is wrong"),
            "time_limit": _time_limit(),
            "attempts": _attempts(),
            "sources": {
                "type": "array", "minItems": 1, "maxItems": MAX_SOURCES,
                "description": "the documentation page or paper section that backs the key",
                "items": {
                    "type": "object", "additionalProperties": False, "required": ["title"],
                    "properties": {
                        "title": {**TEXT, "maxLength": SOURCE_TEXT_LIMIT},
                        "section": {**TEXT, "maxLength": SOURCE_TEXT_LIMIT},
                        "url": {"type": "string", "maxLength": URL_LIMIT,
                                "pattern": f"^{URL_PATTERN.pattern}$"},
                    },
                },
            },
            "experiment": {
                "type": "object",
                "additionalProperties": False,
                "required": ["script"],
                "properties": {
                    "script": {"type": "string", "pattern": f"^{SCRIPT_PATTERN.pattern}$"},
                    "params": {"type": "object"},
                },
            },
        },
    }


def pack_schema() -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://github.com/tutorbot/tutorbot/pack.schema.json",
        "title": "tutorbot question pack",
        "type": "object",
        "additionalProperties": False,
        "required": ["id", "title", "badge", "problems"],
        "properties": {
            "id": {"type": "string", "pattern": f"^{ID_PATTERN.pattern}$"},
            "title": TEXT,
            "summary": {"type": "string"},
            "badge": {
                "type": "object",
                "additionalProperties": False,
                "required": ["name"],
                "properties": {"name": {**TEXT, "maxLength": TITLE_LIMIT}, "emoji": TEXT,
                               "description": TEXT},
            },
            "defaults": {
                "type": "object",
                "additionalProperties": False,
                "properties": {"time_limit": _time_limit(), "attempts": _attempts()},
            },
            "problems": {"type": "array", "minItems": 1, "items": _problem()},
        },
    }
