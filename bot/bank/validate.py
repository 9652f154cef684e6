"""Validation of pack files: every error, with the file, the problem, the field and the line."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from bot.bank.model import (
    CHOICE_LETTERS,
)
from bot.terminal import printable

ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{0,47}")  # used with fullmatch
TITLE_LIMIT = 80  # also used as a select-menu label and an autocomplete name
SCRIPT_PATTERN = re.compile(r"[A-Za-z0-9_]+\.py")  # used with fullmatch
# The badge asks for every problem of a pack; past this many, split the pack. The size limit
# already bounds the work; this keeps a pack something a learner can finish (the shipped one
# has 5) and keeps one file's error list readable.
MAX_PROBLEMS = 200

PACK_KEYS = {"id": True, "title": True, "summary": False, "badge": True, "defaults": False,
             "problems": True}
BADGE_KEYS = {"name": True, "emoji": False, "description": False}
DEFAULT_KEYS = {"time_limit": False, "attempts": False}
PROBLEM_KEYS = {
    "id": True, "kind": True, "difficulty": True, "title": True, "prompt": True,
    "code": False, "choices": True, "answer": True, "hint": True, "explanation": True,
    "why_not": False, "time_limit": False, "attempts": False, "experiment": False,
    "sources": False,
}
EXPERIMENT_KEYS = {"script": True, "params": False}
SOURCE_KEYS = {"title": True, "section": False, "url": False}
MAX_SOURCES = 5
SOURCE_TEXT_LIMIT = 200
URL_LIMIT = 300
URL_PATTERN = re.compile(r"https?://[^\s<>()\[\]]+")  # used with fullmatch; fits a Markdown link


@dataclass(frozen=True)
class PackError:
    file: str
    message: str
    problem: str | None = None
    field: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        parts = [where]
        if self.problem is not None:
            parts.append(f"problem '{self.problem}'")
        if self.field is not None:
            parts.append(f"field '{self.field}'")
        return printable(": ".join(parts) + f": {self.message}")


class PackValidationError(Exception):
    """Raised with every error found, so an author fixes them all in one pass."""

    def __init__(self, errors: list[PackError]) -> None:
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


class ErrorSink:
    """Collects errors for one file, resolving line numbers from the YAML node marks."""

    def __init__(self, file: str, lines: dict[tuple[Any, ...], int]) -> None:
        self.file = file
        self.lines = lines
        self.errors: list[PackError] = []

    def line_of(self, path: tuple[Any, ...]) -> int | None:
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), None)

    def add(self, message: str, path: tuple[Any, ...] = (), problem: str | None = None,
            field: str | None = None) -> None:
        self.errors.append(PackError(self.file, message, problem, field, self.line_of(path)))


def check_keys(sink: ErrorSink, data: dict[str, Any], spec: dict[str, bool], path: tuple[Any, ...],
               problem: str | None = None, prefix: str = "") -> None:
    for key in data:
        if key not in spec:
            known = ", ".join(sorted(spec))
            sink.add(f"unknown key (expected one of: {known})", path + (key,), problem,
                     prefix + str(key))
    for key, required in spec.items():
        if required and key not in data:
            sink.add("missing required key", path, problem, prefix + key)


def check_text(sink: ErrorSink, value: Any, path: tuple[Any, ...], problem: str | None,
               field: str, limit: int | None = None) -> bool:
    if not isinstance(value, str) or not value.strip():
        sink.add("must be a non-empty string", path, problem, field)
        return False
    if limit is not None and len(value) > limit:
        sink.add(f"is {len(value)} characters; Discord allows {limit}", path, problem, field)
        return False
    return True


def check_int_range(sink: ErrorSink, value: Any, bounds: tuple[int, int], path: tuple[Any, ...],
                    problem: str | None, field: str, unit: str = "") -> bool:
    low, high = bounds
    if isinstance(value, bool) or not isinstance(value, int):
        sink.add(f"must be a whole number from {low} to {high}{unit}", path, problem, field)
        return False
    if not low <= value <= high:
        sink.add(f"{value}{unit} is outside {low}–{high}{unit}", path, problem, field)
        return False
    return True


def check_choices(sink: ErrorSink, raw: dict[str, Any], path: tuple[Any, ...], pid: str) -> bool:
    choices = raw.get("choices")
    if not isinstance(choices, dict):
        sink.add("must be a mapping of letters to choice text (A: ..., B: ...)",
                 path + ("choices",), pid, "choices")
        return False
    letters = [str(k) for k in choices]
    expected = list(CHOICE_LETTERS[: len(letters)])
    ok = True
    if not 2 <= len(letters) <= len(CHOICE_LETTERS):
        sink.add(f"has {len(letters)} choices; allowed 2 to {len(CHOICE_LETTERS)}",
                 path + ("choices",), pid, "choices")
        ok = False
    elif letters != expected:
        sink.add(f"letters must be {', '.join(expected)} in order, got {', '.join(letters)}",
                 path + ("choices",), pid, "choices")
        ok = False
    for letter, text in choices.items():
        ok &= check_text(sink, text, path + ("choices", letter), pid, f"choices.{letter}")
    return ok


def check_answer(sink: ErrorSink, raw: dict[str, Any], path: tuple[Any, ...], pid: str) -> None:
    answer, choices = raw.get("answer"), raw.get("choices")
    if "answer" not in raw or not isinstance(choices, dict):
        return
    if not isinstance(answer, str) or answer not in choices:
        letters = ", ".join(str(k) for k in choices)
        sink.add(f"{answer!r} is not one of the choices ({letters})", path + ("answer",), pid,
                 "answer")


def check_why_not(sink: ErrorSink, raw: dict[str, Any], path: tuple[Any, ...], pid: str) -> None:
    why_not, choices, answer = raw.get("why_not"), raw.get("choices"), raw.get("answer")
    if why_not is None:
        return
    if not isinstance(why_not, dict):
        sink.add("must be a mapping of wrong choices to the reason", path + ("why_not",), pid,
                 "why_not")
        return
    for letter, text in why_not.items():
        where = path + ("why_not", letter)
        if isinstance(choices, dict) and letter not in choices:
            sink.add(f"{letter!r} is not one of the choices", where, pid, f"why_not.{letter}")
        elif letter == answer:
            sink.add("explains the correct answer; use 'explanation' for that", where, pid,
                     f"why_not.{letter}")
        else:
            check_text(sink, text, where, pid, f"why_not.{letter}")


def check_experiment(sink: ErrorSink, raw: Any, path: tuple[Any, ...], pid: str,
                     scripts: dict[str, str | None] | None) -> None:
    """`scripts` maps each experiments/*.py name to why it is refused, or None; None skips."""
    if not isinstance(raw, dict):
        sink.add("must be a mapping with 'script' and optional 'params'", path, pid, "experiment")
        return
    check_keys(sink, raw, EXPERIMENT_KEYS, path, pid, "experiment.")
    script = raw.get("script")
    if "script" in raw and (not isinstance(script, str) or not SCRIPT_PATTERN.fullmatch(script)):
        sink.add("must be a Python file name such as speedup.py", path + ("script",), pid,
                 "experiment.script")
    elif scripts is not None and isinstance(script, str):
        refusal = scripts.get(script, f"experiments/{script} does not exist")
        if refusal is not None:
            sink.add(refusal, path + ("script",), pid, "experiment.script")
    params = raw.get("params", {})
    if not isinstance(params, dict):
        sink.add("must be a mapping", path + ("params",), pid, "experiment.params")
    elif not _json_ready(params):
        sink.add("must hold only text, numbers, true/false, lists and mappings: the experiment "
                 "gets them as JSON (quote a date to pass it as text)", path + ("params",), pid,
                 "experiment.params")


def check_sources(sink: ErrorSink, raw: dict[str, Any], path: tuple[Any, ...], pid: str) -> None:
    """A key no experiment checks must name what backs it; `sources` says where to read it."""
    if "sources" not in raw:
        if "experiment" not in raw:
            sink.add("a problem without an experiment must name its sources: a list of "
                     "{title, section, url} for the documentation page or paper section that "
                     "backs the key", path, pid, "sources")
        return
    sources = raw["sources"]
    where = path + ("sources",)
    if not isinstance(sources, list) or not 1 <= len(sources) <= MAX_SOURCES:
        sink.add(f"must be a list of 1 to {MAX_SOURCES} sources, each with a title and "
                 "optionally a section and a url", where, pid, "sources")
        return
    for index, source in enumerate(sources):
        at, name = where + (index,), f"sources[{index}]"
        if not isinstance(source, dict):
            sink.add("must be a mapping with title and optional section and url", at, pid, name)
            continue
        check_keys(sink, source, SOURCE_KEYS, at, pid, f"{name}.")
        for key in ("title", "section"):
            if key in source:
                check_text(sink, source[key], at + (key,), pid, f"{name}.{key}",
                           SOURCE_TEXT_LIMIT)
        url = source.get("url")
        if "url" in source and not (isinstance(url, str) and len(url) <= URL_LIMIT
                                    and URL_PATTERN.fullmatch(url)):
            sink.add(f"must be one http(s) address of at most {URL_LIMIT} characters, without "
                     "spaces or brackets", at + ("url",), pid, f"{name}.url")


def _json_ready(value: Any) -> bool:
    # The runner sends params to the child as JSON: a date or bytes would crash that run.
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True
