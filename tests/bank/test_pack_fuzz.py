"""Any pack.yaml, however malformed, loads or is refused with located errors; nothing else.

Hypothesis writes arbitrary bytes, arbitrary text, deep brackets, huge scalars, fragments of
YAML from a small grammar (anchors, aliases, tags, duplicate keys, odd scalars) and edits of
builders.VALID, and load_pack must return a Pack or raise PackValidationError whose every
error names the file: never another exception, a hang or a traceback.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from bot.bank import Pack, PackValidationError, load_pack
from bot.bank.safe_yaml import MAX_PACK_BYTES
from tests.bank.builders import VALID

FUZZ = settings(max_examples=200, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

KEYS = ["id", "title", "badge", "name", "problems", "kind", "choices", "answer", "A", "B",
        "why_not", "experiment", "script", "params", "time_limit", "<<", "? a", "'x\\ny'", "1"]
SCALARS = ["demo", "first", "conceptual", "B", "~", "null", "", "''", '"\\0"', "yes", "0x1F",
           "1e999", ".nan", "2024-13-01", "2024-01-01T25:00:00", "9" * 4400, "!!int x",
           "!!bool maybe", "!!binary x", "!!binary aGk=", "!!float abc",
           "!!python/object:os.system", "!foo bar", "!<tag:x> y", "!!set {a}", "!!omap [a: 1]",
           "&a x", "*a", "&a [*a]", "|", ">-", "- x", ": x", "@", "`", "%", "\t", "\x85",
           "\u2028", "\ufeff", "…", "🎖️", "../evil.py", "x.py", "{", "]", '"unterminated']


def scalar() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(SCALARS), st.text(max_size=20))


def node(depth: int = 2) -> st.SearchStrategy[str]:
    """A flow value: a scalar, or a list or mapping of smaller values."""
    if depth == 0:
        return scalar()
    child = node(depth - 1)
    return st.one_of(
        scalar(),
        st.lists(child, max_size=4).map(lambda items: "[" + ", ".join(items) + "]"),
        st.lists(st.tuples(st.sampled_from(KEYS), child), max_size=4).map(
            lambda pairs: "{" + ", ".join(f"{k}: {v}" for k, v in pairs) + "}"),
        st.tuples(st.sampled_from(["&a ", "*a", "!!str ", "!x ", "!!map ", "!!seq "]), child)
        .map("".join),
    )


def block_line() -> st.SearchStrategy[str]:
    """One line of block YAML: an indented key with a value, a list item or a directive."""
    return st.one_of(
        st.tuples(st.integers(0, 8), st.sampled_from(KEYS), node()).map(
            lambda t: " " * t[0] + f"{t[1]}: {t[2]}"),
        st.tuples(st.integers(0, 8), node()).map(lambda t: " " * t[0] + f"- {t[1]}"),
        st.sampled_from(["---", "...", "%YAML 1.1", "%TAG ! tag:x,2000:", "# c", "? [a]", ": b"]),
    )


GRAMMAR = st.lists(block_line(), max_size=30).map(lambda lines: "\n".join(lines) + "\n")
DEEP = st.tuples(st.integers(0, 5000), st.sampled_from(["[", "{a: ", "- ", "[{a: "])).map(
    lambda t: "x: " + t[1] * t[0] + "\n")
# Under the limit, far past any Discord limit; over it, refused from stat(). (A file at the
# limit takes ~0.3 s to read: test_hostile_packs reads one, once.)
HUGE = st.sampled_from([5_000, 100_000, MAX_PACK_BYTES + 1]).map(lambda n: "id: " + "x" * n)


@st.composite
def edited_valid(draw: st.DrawFn) -> str:
    """builders.VALID with one line replaced by a value or a fragment, and maybe an experiment
    whose params are a random value."""
    lines = VALID.splitlines()
    index = draw(st.integers(0, len(lines) - 1))
    key, _, _ = lines[index].partition(":")
    replacement = draw(st.one_of(st.just(lines[index]), node().map(lambda v: f"{key}: {v}"),
                                 block_line()))
    experiment = draw(st.one_of(st.just(""), node().map(
        lambda v: f"    experiment: {{script: x.py, params: {{p: {v}}}}}\n")))
    return "\n".join([*lines[:index], replacement, *lines[index + 1:]]) + "\n" + experiment


TEXTS = st.one_of(st.text(), GRAMMAR, edited_valid(), DEEP, HUGE)


@pytest.fixture(scope="module")
def pack_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("fuzz")
    (folder / "experiments").mkdir()
    (folder / "experiments" / "x.py").write_text("print('x')\n", encoding="utf-8")
    return folder / "pack.yaml"


def line_count(data: bytes) -> int:
    # YAML, like most editors, also breaks lines at a lone \r, U+0085, U+2028 and U+2029.
    text = data.decode("utf-8", errors="replace")
    return len(re.findall("\r\n|[\n\r\x85\u2028\u2029]", text)) + 1


def assert_loads_or_refuses_with_the_file(file: Path, data: bytes) -> None:
    file.write_bytes(data)
    try:
        pack = load_pack(file)
    except PackValidationError as exc:
        assert exc.errors
        for error in exc.errors:
            assert error.file == str(file)
            assert str(error).isprintable()
            assert error.line is None or 1 <= error.line <= line_count(data)
        event("refused")
        return
    assert isinstance(pack, Pack)
    event("loaded")
    for problem in pack.problems:  # what the runner will send the child as JSON
        json.dumps(dict(problem.experiment.params) if problem.experiment else {})


@pytest.mark.filterwarnings("ignore:Generating overly large repr")
@FUZZ
@given(text=TEXTS)
def test_any_text_loads_or_is_refused_with_the_file_named(pack_file, text):
    assert_loads_or_refuses_with_the_file(pack_file, text.encode("utf-8", "surrogatepass"))


@st.composite
def valid_with_bytes(draw: st.DrawFn) -> bytes:
    """builders.VALID with a few arbitrary bytes (invalid UTF-8, NUL, ...) put in somewhere."""
    valid = VALID.encode()
    at = draw(st.integers(0, len(valid)))
    return valid[:at] + draw(st.binary(min_size=1, max_size=4)) + valid[at:]


@FUZZ
@given(data=st.one_of(st.binary(), valid_with_bytes()))
def test_any_bytes_load_or_are_refused_with_the_file_named(pack_file, data):
    assert_loads_or_refuses_with_the_file(pack_file, data)
