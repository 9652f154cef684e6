"""Reading pack.yaml as untrusted input: work in proportion to the file, errors with a line.

A pack is written by anyone who opens a pull request, so the reader refuses what would let a
small file cost a lot: a file over MAX_PACK_BYTES (refused from stat(), before it is read),
anchors and aliases (a 1 KB "billion laughs" file expands to gigabytes), nesting deeper than
MAX_DEPTH (PyYAML's composer and the loader recurse once per level) and more than MAX_NODES
values. Every refusal is a PackFileError with the line where one is known.
"""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor

# The shipped pack (5 problems, each with an experiment) is 10,090 bytes, about 2 KB a problem;
# Discord's limits cap a problem's text near 6,000 characters. 512 KiB holds 50 times the
# shipped pack, or 80 problems at Discord's limit, and 50 shipped packs' text reads in ~1 s.
MAX_PACK_BYTES = 512 * 1024
# A pack nests 6 levels at most (pack, problems, problem, experiment, params, a list value).
MAX_DEPTH = 20
# PyYAML's pure-Python parser costs 30-50 µs a value: 512 KiB of `[a,a,a,…]` took 12 s of CPU,
# so the values are capped too. The shipped pack has 230 (46 a problem): a pack at the problem
# cap (200) needs about 9,200.
MAX_NODES = 20_000
ANCHORS_REFUSED = "YAML anchors and aliases (&, *) are not allowed; write the text out"


class PackFileError(Exception):
    """Why a file cannot be read as a pack at all; `line` is 1-based, when one is known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


class UnreadableValue(Exception):
    """A scalar PyYAML resolves to a type it then cannot build, such as the date 2024-13-01."""


class PackLoader(yaml.SafeLoader):
    """SafeLoader whose composer refuses anchors, aliases, deep nesting and too many values.

    Refusing aliases outright (rather than counting expansions) keeps the node graph a tree,
    so every later pass over it costs time in proportion to the file.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._nodes = 0

    def fetch_flow_collection_start(self, TokenClass: Any) -> None:  # PyYAML names it so
        # The scanner reads up to 1,024 characters ahead of the composer, in time quadratic in
        # the open brackets there: stop at the bracket too deep rather than after 1,000 more.
        if self.flow_level >= MAX_DEPTH:
            raise PackFileError(_too_deep(), self.line + 1)
        super().fetch_flow_collection_start(TokenClass)

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        event = self.peek_event()
        self._refuse(event)
        if not isinstance(event, yaml.CollectionStartEvent):
            return super().compose_node(parent, index)
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def _refuse(self, event: yaml.Event) -> None:
        """Raises PackFileError, at the event's line, for an anchor, an alias or one value
        too many or too deep."""
        line = _line(event.start_mark)
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise PackFileError(ANCHORS_REFUSED, line)
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise PackFileError(f"has more than {MAX_NODES:,} YAML values (keys, list items and "
                                "texts); split it into several packs", line)
        if isinstance(event, yaml.CollectionStartEvent) and self._depth >= MAX_DEPTH:
            raise PackFileError(_too_deep(), line)


def read_pack_text(path: Path) -> str:
    """The file's text, refused unread when it links out of its folder (a pull request could
    link it to a secret and read it back in the errors), is not a regular file or is too big."""
    try:
        real = path.resolve()
        folder = path.absolute().parent.resolve()
    except (OSError, RuntimeError) as exc:  # a loop of links
        raise PackFileError(f"cannot read: {exc}") from exc
    if not real.is_relative_to(folder):
        raise PackFileError(f"resolves to {real}, outside the pack folder; a pack.yaml must be "
                            "a file inside it")
    try:
        info = real.stat()
        if not stat.S_ISREG(info.st_mode):  # a FIFO or /dev/zero would block or never end
            raise PackFileError("is not a regular file")
        if info.st_size > MAX_PACK_BYTES:
            raise PackFileError(_too_big(f"{info.st_size:,}"))
        with real.open("rb") as handle:
            data = handle.read(MAX_PACK_BYTES + 1)  # it may have grown since stat()
    except OSError as exc:
        raise PackFileError(f"cannot read: {exc}") from exc
    if len(data) > MAX_PACK_BYTES:
        raise PackFileError(_too_big(f"more than {MAX_PACK_BYTES:,}"))
    return _decode(data)


def _too_deep() -> str:
    return f"nested deeper than {MAX_DEPTH} levels; a pack needs about 6"


def _too_big(size: str) -> str:
    return (f"is {size} bytes; a pack.yaml may be at most {MAX_PACK_BYTES:,} bytes "
            f"({MAX_PACK_BYTES // 1024} KiB)")


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise PackFileError(f"is not UTF-8: byte 0x{data[exc.start]:02x} cannot be decoded; "
                            "save the file as UTF-8", line) from exc


def compose_pack(text: str) -> yaml.Node | None:
    """The document's node tree (None for an empty file); PackFileError for what is refused."""
    try:
        loader = PackLoader(text)  # checks every character first
    except yaml.reader.ReaderError as exc:
        raise PackFileError(f"character U+{exc.character:04X} is not allowed in YAML",
                            text.count("\n", 0, exc.position) + 1) from exc
    try:
        return loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        context = f" ({exc.context})" if exc.context else ""
        raise PackFileError(f"YAML syntax: {exc.problem}{context}", _line(mark)) from exc
    finally:
        loader.dispose()


def scalar_value(node: yaml.Node) -> Any:
    """Builds one scalar as yaml.safe_load would; UnreadableValue names what went wrong."""
    if node.tag not in SafeConstructor.yaml_constructors:
        raise UnreadableValue(f"unsupported YAML tag {_cut(node.tag)!r}; use plain text, "
                              "numbers and lists")
    # The constructors raise more than YAMLError for values their pattern let through:
    # 2024-13-01, `!!bool maybe`, an integer of more than 4,300 digits.
    try:
        return SafeConstructor().construct_object(node, deep=True)
    except (yaml.YAMLError, ValueError, KeyError, TypeError, OverflowError) as exc:
        kind = node.tag.rsplit(":", 1)[-1]
        reason = str(getattr(exc, "problem", None) or exc).strip().splitlines() or [kind]
        raise UnreadableValue(f"cannot read this value as {kind} ({_cut(reason[0], 80)}); "
                              "put it in quotes to keep it as text") from exc


def _line(mark: Any) -> int | None:  # a yaml.Mark from the Python or the C parser, or None
    return mark.line + 1 if mark is not None else None


def _cut(text: str, limit: int = 40) -> str:
    """A tag or a reason can be as long as the file; an error stays one short line."""
    return text if len(text) <= limit else text[:limit] + "…"
