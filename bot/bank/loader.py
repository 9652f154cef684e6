"""Loading packs from YAML into validated, immutable objects."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from bot.bank import safe_yaml, text
from bot.bank.model import (
    ATTEMPTS_RANGE,
    DEFAULT_ATTEMPTS,
    DEFAULT_TIME_LIMIT,
    DIFFICULTIES,
    KINDS,
    TIME_LIMIT_RANGE,
    Badge,
    Experiment,
    Pack,
    Problem,
    Source,
)
from bot.bank.validate import (
    BADGE_KEYS,
    DEFAULT_KEYS,
    ID_PATTERN,
    MAX_PROBLEMS,
    PACK_KEYS,
    PROBLEM_KEYS,
    TITLE_LIMIT,
    ErrorSink,
    PackError,
    PackValidationError,
    check_answer,
    check_choices,
    check_experiment,
    check_int_range,
    check_keys,
    check_sources,
    check_text,
    check_why_not,
)

log = logging.getLogger(__name__)
PACK_FILE = "pack.yaml"
BADGE_DESCRIPTION_LIMIT = 200  # shown in the private reply that announces the badge


def _plain(node: yaml.Node, path: tuple[Any, ...], lines: dict[tuple[Any, ...], int],
           sink: ErrorSink, duplicates: list[tuple[Any, ...]]) -> Any:
    """Turns a composed YAML node into plain data, recording each value's line.

    Recursion is bounded by safe_yaml.MAX_DEPTH, and the tree has no shared nodes (aliases
    are refused), so this costs time in proportion to the file.
    """
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                lines[path + ("?",)] = key_node.start_mark.line + 1
                sink.add("keys must be plain text", path + ("?",))
                continue
            key = _scalar(key_node, path + ("?",), lines, sink)
            if key in out:
                lines[path + (key,)] = key_node.start_mark.line + 1
                duplicates.append(path + (key,))
            out[key] = _plain(value_node, path + (key,), lines, sink, duplicates)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_plain(item, path + (i,), lines, sink, duplicates)
                for i, item in enumerate(node.value)]
    return _scalar(node, path, lines, sink)


def _scalar(node: yaml.Node, path: tuple[Any, ...], lines: dict[tuple[Any, ...], int],
            sink: ErrorSink) -> Any:
    try:
        return safe_yaml.scalar_value(node)
    except safe_yaml.UnreadableValue as exc:
        lines[path] = node.start_mark.line + 1
        sink.add(str(exc), path)
        return None


def _report_duplicates(sink: ErrorSink, data: Any, duplicates: list[tuple[Any, ...]]) -> None:
    """Names the problem a duplicate key sits in, which is only known once all is read."""
    for path in duplicates:
        problem = None
        if path[:1] == ("problems",) and len(path) > 2 and isinstance(data, dict):
            try:
                problem = data["problems"][path[1]].get("id")
            except (AttributeError, IndexError, KeyError, TypeError):
                problem = None
        sink.add("duplicate key", path, problem, str(path[-1]))


def read_yaml(path: Path, display: str) -> tuple[Any, ErrorSink]:
    lines: dict[tuple[Any, ...], int] = {}
    sink = ErrorSink(display, lines)
    try:
        node = safe_yaml.compose_pack(safe_yaml.read_pack_text(path))
    except safe_yaml.PackFileError as exc:
        sink.errors.append(PackError(display, exc.message, line=exc.line))
        return None, sink
    if node is None or _empty_document(node):
        sink.errors.append(PackError(display, "file is empty"))
        return None, sink
    duplicates: list[tuple[Any, ...]] = []
    data = _plain(node, (), lines, sink, duplicates)
    _report_duplicates(sink, data, duplicates)
    return data, sink


def _empty_document(node: yaml.Node) -> bool:
    """`---` and nothing else: PyYAML composes it to an empty null scalar."""
    return isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null") and not node.value


def _defaults(sink: ErrorSink, raw: dict[str, Any]) -> tuple[int, int]:
    defaults = raw.get("defaults", {})
    if not isinstance(defaults, dict):
        sink.add("must be a mapping", ("defaults",), None, "defaults")
        return DEFAULT_TIME_LIMIT, DEFAULT_ATTEMPTS
    check_keys(sink, defaults, DEFAULT_KEYS, ("defaults",), None, "defaults.")
    limit = defaults.get("time_limit", DEFAULT_TIME_LIMIT)
    attempts = defaults.get("attempts", DEFAULT_ATTEMPTS)
    ok = check_int_range(sink, limit, TIME_LIMIT_RANGE, ("defaults", "time_limit"), None,
                         "defaults.time_limit", " s")
    ok &= check_int_range(sink, attempts, ATTEMPTS_RANGE, ("defaults", "attempts"), None,
                          "defaults.attempts")
    return (limit, attempts) if ok else (DEFAULT_TIME_LIMIT, DEFAULT_ATTEMPTS)


def _badge(sink: ErrorSink, raw: Any, title: str) -> Badge:
    if not isinstance(raw, dict):
        sink.add("must be a mapping with 'name'", ("badge",), None, "badge")
        return Badge(f"{title} Master", "🏅", "")
    check_keys(sink, raw, BADGE_KEYS, ("badge",), None, "badge.")
    check_text(sink, raw.get("name"), ("badge", "name"), None, "badge.name", TITLE_LIMIT)
    if "description" in raw:
        check_text(sink, raw["description"], ("badge", "description"), None,
                   "badge.description", BADGE_DESCRIPTION_LIMIT)
    return Badge(str(raw.get("name", "")), str(raw.get("emoji", "🏅")),
                 str(raw.get("description", "Answer every problem of this pack correctly.")))


def _problem(sink: ErrorSink, raw: Any, index: int, pack_id: str, defaults: tuple[int, int],
             scripts: dict[str, str | None] | None) -> Problem | None:
    path: tuple[Any, ...] = ("problems", index)
    if not isinstance(raw, dict):
        sink.add("must be a mapping", path, f"#{index + 1}", None)
        return None
    pid: str = raw["id"] if isinstance(raw.get("id"), str) else f"#{index + 1}"
    before = len(sink.errors)
    check_keys(sink, raw, PROBLEM_KEYS, path, pid)
    if "id" in raw and (not isinstance(raw["id"], str) or not ID_PATTERN.fullmatch(raw["id"])):
        sink.add("must be lower-case letters, digits and '-', at most 48", path + ("id",), pid,
                 "id")
    if "kind" in raw and not (isinstance(raw["kind"], str) and raw["kind"] in KINDS):
        sink.add(f"unknown kind {raw['kind']!r} (one of: {', '.join(KINDS)})", path + ("kind",),
                 pid, "kind")
    if "difficulty" in raw and raw["difficulty"] not in DIFFICULTIES:
        sink.add(f"unknown difficulty {raw['difficulty']!r} (one of: {', '.join(DIFFICULTIES)})",
                 path + ("difficulty",), pid, "difficulty")
    for key in ("prompt", "explanation"):
        if key in raw:
            check_text(sink, raw[key], path + (key,), pid, key)
    if "hint" in raw:
        check_text(sink, raw["hint"], path + ("hint",), pid, "hint", text.HINT_LIMIT)
    if "title" in raw:
        check_text(sink, raw["title"], path + ("title",), pid, "title", TITLE_LIMIT)
    if "code" in raw:
        check_text(sink, raw["code"], path + ("code",), pid, "code")
    if "choices" in raw:
        check_choices(sink, raw, path, pid)
    check_answer(sink, raw, path, pid)
    check_why_not(sink, raw, path, pid)
    time_limit = raw.get("time_limit", defaults[0])
    attempts = raw.get("attempts", defaults[1])
    check_int_range(sink, time_limit, TIME_LIMIT_RANGE, path + ("time_limit",), pid,
                    "time_limit", " s")
    check_int_range(sink, attempts, ATTEMPTS_RANGE, path + ("attempts",), pid, "attempts")
    if "experiment" in raw:
        check_experiment(sink, raw["experiment"], path + ("experiment",), pid, scripts)
    check_sources(sink, raw, path, pid)
    if len(sink.errors) > before:
        return None
    problem = _build_problem(raw, pack_id, time_limit, attempts)
    _check_discord_limits(sink, problem, path)
    return problem


def _build_problem(raw: dict[str, Any], pack_id: str, time_limit: int, attempts: int) -> Problem:
    experiment = None
    if "experiment" in raw:
        experiment = Experiment(raw["experiment"]["script"],
                                MappingProxyType(dict(raw["experiment"].get("params") or {})))
    return Problem(
        id=raw["id"], pack_id=pack_id, kind=raw["kind"], difficulty=raw["difficulty"],
        title=raw["title"].strip(), prompt=raw["prompt"], code=raw.get("code"),
        choices=MappingProxyType({str(k): str(v).strip() for k, v in raw["choices"].items()}),
        answer=raw["answer"], hint=raw["hint"].strip(), explanation=raw["explanation"],
        why_not=MappingProxyType({str(k): str(v).strip()
                                  for k, v in (raw.get("why_not") or {}).items()}),
        time_limit=time_limit, attempts=attempts, experiment=experiment,
        sources=tuple(Source(s["title"].strip(), _stripped(s.get("section")), s.get("url"))
                      for s in raw.get("sources") or ()),
    )


def _stripped(value: str | None) -> str | None:
    return value.strip() if value else None


def _check_discord_limits(sink: ErrorSink, problem: Problem, path: tuple[Any, ...]) -> None:
    # The descriptions hold exactly these texts; what is added at run time goes in fields.
    body = len(text.challenge_body(problem))
    if body > text.EMBED_DESCRIPTION_LIMIT:
        sink.add(f"prompt, code and choices render to {body} characters; an embed description "
                 f"allows {text.EMBED_DESCRIPTION_LIMIT}", path + ("prompt",), problem.id,
                 "prompt")
    reveal = len(text.reveal_body(problem))
    if reveal > text.EMBED_DESCRIPTION_LIMIT:
        sink.add(f"the reveal (explanation, why_not, sources) renders to {reveal} characters; "
                 f"an embed description allows {text.EMBED_DESCRIPTION_LIMIT}",
                 path + ("explanation",), problem.id, "explanation")
    size = text.message_size(problem)
    if size > text.EMBEDS_TOTAL_LIMIT:
        sink.add(f"the revealed post needs {size} characters; Discord allows "
                 f"{text.EMBEDS_TOTAL_LIMIT} across a message's embeds", path, problem.id, None)


def load_pack(path: Path, display: str | None = None) -> Pack:
    """Loads one pack.yaml (or a pack folder); raises PackValidationError listing every error."""
    path = path / PACK_FILE if path.is_dir() else path
    display = display or str(path)
    raw, sink = read_yaml(path, display)
    if not isinstance(raw, dict) and not sink.errors:  # a list, a scalar, or `---` alone
        sink.add("the top level must be a mapping with id, title, badge and problems")
    if sink.errors or not isinstance(raw, dict):
        raise PackValidationError(sink.errors)
    check_keys(sink, raw, PACK_KEYS, ())
    pack_id = raw.get("id")
    if "id" in raw and (not isinstance(pack_id, str) or not ID_PATTERN.fullmatch(pack_id)):
        sink.add("must be lower-case letters, digits and '-', at most 48", ("id",), None, "id")
    check_text(sink, raw.get("title"), ("title",), None, "title", text.EMBED_TITLE_LIMIT)
    title = str(raw.get("title", ""))
    badge = _badge(sink, raw.get("badge"), title) if "badge" in raw else None
    defaults = _defaults(sink, raw)
    scripts = _experiment_scripts(path.parent)
    problems = (_problems(sink, raw["problems"], str(pack_id), defaults, scripts)
                if "problems" in raw else [])
    if sink.errors:
        raise PackValidationError(sink.errors)
    assert badge is not None
    id_lines = {p.id: sink.line_of(("problems", i, "id")) or 0
                for i, p in enumerate(problems)}
    return Pack(str(pack_id), title.strip(), str(raw.get("summary", "")).strip(), badge,
                tuple(problems), path, MappingProxyType(id_lines))


def _experiment_scripts(pack_dir: Path) -> dict[str, str | None]:
    """Each experiments/*.py name, with why it is refused (None when it may run)."""
    folder = pack_dir / "experiments"
    if not folder.is_dir():
        return {}
    real_pack = pack_dir.resolve()
    return {script.name: _script_refusal(script, real_pack) for script in folder.glob("*.py")}


def _script_refusal(script: Path, real_pack: Path) -> str | None:
    # A link would let a pack run any file on the machine; follow it and look where it lands.
    name = f"experiments/{script.name}"
    try:
        real = script.resolve(strict=True)
    except (OSError, RuntimeError):  # a dangling link, or a loop of links
        return f"{name} is not a file"
    if not real.is_relative_to(real_pack):
        return (f"{name} resolves to {real}, outside the pack folder; an experiment must be "
                "a file inside it")
    return None if real.is_file() else f"{name} is not a file"


def _problems(sink: ErrorSink, raw: Any, pack_id: str, defaults: tuple[int, int],
              scripts: dict[str, str | None]) -> list[Problem]:
    if not isinstance(raw, list) or not raw:
        sink.add("must be a non-empty list of problems", ("problems",), None, "problems")
        return []
    if len(raw) > MAX_PROBLEMS:
        sink.add(f"has {len(raw)} problems; a pack may have at most {MAX_PROBLEMS}: split it",
                 ("problems",), None, "problems")
        return []
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(raw):
        problem = _problem(sink, item, index, pack_id, defaults, scripts)
        if problem is None:
            continue
        if problem.id in seen:
            sink.add(f"duplicate id (also problem #{seen[problem.id] + 1})",
                     ("problems", index, "id"), problem.id, "id")
        seen[problem.id] = index
        problems.append(problem)
    return problems


@dataclass
class Bank:
    """Every loaded pack, with problems indexed by their globally unique id."""

    packs: dict[str, Pack] = field(default_factory=dict)
    problems: dict[str, Problem] = field(default_factory=dict)

    def pack_of(self, problem: Problem) -> Pack:
        return self.packs[problem.pack_id]

    def __iter__(self) -> Iterator[Pack]:
        return iter(self.packs.values())

    def pack_sizes(self) -> dict[str, int]:
        return {pack.id: len(pack.problems) for pack in self}


def pack_files(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    if (root / PACK_FILE).is_file():
        return [root / PACK_FILE]
    return sorted(root.glob(f"*/{PACK_FILE}"))


def load_bank(root: Path) -> Bank:
    """Loads every pack under root; errors from all files are raised together."""
    bank, errors = Bank(), []
    files = pack_files(root)
    if not files:
        raise PackValidationError([PackError(str(root), f"no {PACK_FILE} found")])
    for file in files:
        try:
            pack = load_pack(file)
        except PackValidationError as exc:
            errors.extend(exc.errors)
            continue
        errors.extend(_merge(bank, pack))
    if errors:
        raise PackValidationError(errors)
    log.info("loaded %d packs, %d problems", len(bank.packs), len(bank.problems))
    return bank


def _merge(bank: Bank, pack: Pack) -> list[PackError]:
    errors = []
    if pack.id in bank.packs:
        errors.append(PackError(str(pack.path), f"pack id also used by {bank.packs[pack.id].path}",
                                field="id"))
    for problem in pack.problems:
        other = bank.problems.get(problem.id)
        if other is not None:
            errors.append(PackError(str(pack.path), f"duplicate id, also in pack '{other.pack_id}'",
                                    problem.id, "id", pack.id_lines.get(problem.id)))
        bank.problems[problem.id] = problem
    bank.packs[pack.id] = pack
    return errors
