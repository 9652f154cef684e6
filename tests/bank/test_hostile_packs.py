"""Hostile pack files: each costs time and memory in proportion to its size and is refused
with a located PackError, never a traceback, a hang or a run of a file outside the pack.

The pack texts are edits of builders.VALID; its docstring lists the line numbers.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.bank import PackError, PackValidationError, load_bank, load_pack
from bot.bank.safe_yaml import MAX_DEPTH, MAX_NODES, MAX_PACK_BYTES
from bot.bank.validate import MAX_PROBLEMS
from tests.bank.builders import VALID, pack_text, problem_text, write_pack

REPO = Path(__file__).resolve().parents[2]
ANCHORS = "YAML anchors and aliases (&, *) are not allowed; write the text out"
EXPERIMENT = "    experiment:\n      script: speedup.py\n"  # lines 21 and 22 after VALID
# ~700 bytes whose nine levels of nine aliases expand to 9**10 strings ("billion laughs").
BOMB = "".join(
    [f"a0: &a0 [{', '.join(['lol'] * 9)}]\n"]
    + [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 10)])


def edit(old: str, new: str) -> str:
    assert VALID.count(old) == 1, f"{old!r} should occur once"
    return VALID.replace(old, new)


def load_errors(file: Path) -> list[PackError]:
    with pytest.raises(PackValidationError) as caught:
        load_pack(file)
    return caught.value.errors


def only_error(file: Path) -> PackError:
    errors = load_errors(file)
    assert len(errors) == 1, "\n".join(map(str, errors))
    assert errors[0].file == str(file)
    return errors[0]


def timed_error(file: Path) -> tuple[PackError, float]:
    started = time.perf_counter()
    error = only_error(file)
    return error, time.perf_counter() - started


# Anchors and aliases.


def test_alias_bomb_is_refused_at_its_first_anchor_in_milliseconds(tmp_path):
    assert len(BOMB) < 1024
    error, seconds = timed_error(write_pack(tmp_path / "demo", BOMB))

    assert (error.line, error.message) == (1, ANCHORS)
    assert seconds < 1


def test_an_anchor_on_one_value_is_refused_with_its_line(tmp_path):
    error = only_error(write_pack(tmp_path / "demo", edit("title: A fine", "title: &t A fine")))
    assert (error.line, error.message) == (9, ANCHORS)


def test_an_alias_is_refused_with_its_line_even_when_undefined(tmp_path):
    error = only_error(write_pack(tmp_path / "demo", edit("hint: Think.", "hint: *nothing")))
    assert (error.line, error.message) == (16, ANCHORS)


def tutorbot() -> list[str]:
    script = Path(sys.executable).with_name("tutorbot")
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot"]


def test_cli_check_refuses_the_alias_bomb_quickly_with_one_located_line(tmp_path):
    file = write_pack(tmp_path / "packs" / "bomb", BOMB)
    env = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"}
    env["PYTHONIOENCODING"] = "utf-8"

    started = time.perf_counter()
    result = subprocess.run([*tutorbot(), "questions", "check", str(tmp_path / "packs")],
                            cwd=REPO, env=env, capture_output=True, text=True,
                            encoding="utf-8", timeout=60)
    seconds = time.perf_counter() - started

    assert result.returncode == 1
    assert result.stderr.splitlines() == [f"{file}:1: {ANCHORS}",
                                          f"1 error in {tmp_path / 'packs'}"]
    assert seconds < 20  # the process start dominates; the refusal itself takes milliseconds


# Nesting.


def test_thousands_of_nested_brackets_are_refused_with_a_line(tmp_path):
    text = "id: demo\nproblems: " + "[" * 5000 + "]" * 5000 + "\n"
    error, seconds = timed_error(write_pack(tmp_path / "demo", text))

    assert error.line == 2
    assert error.message == (f"nested deeper than {MAX_DEPTH} levels; a pack needs about 6")
    assert seconds < 1


def test_deep_block_nesting_is_refused_at_the_first_level_too_deep(tmp_path):
    text = "".join("  " * level + "k:\n" for level in range(MAX_DEPTH + 5))
    error = only_error(write_pack(tmp_path / "demo", text))
    assert error.line == MAX_DEPTH + 1
    assert "nested deeper" in error.message


def test_nesting_up_to_the_limit_is_read(tmp_path):
    depth = MAX_DEPTH - 1  # the top-level mapping is the first level
    text = VALID + "colour: " + "[" * depth + "]" * depth + "\n"
    error = only_error(write_pack(tmp_path / "demo", text))
    assert (error.field, error.line) == ("colour", 22)
    assert error.message.startswith("unknown key")


# Size.


def test_a_pack_of_too_many_yaml_values_is_refused_before_they_are_all_parsed(tmp_path):
    values = (MAX_PACK_BYTES - len(VALID) - 10) // 2  # 262,000 one-letter values
    text = VALID + "x: [" + "a," * values + "]\n"
    error, seconds = timed_error(write_pack(tmp_path / "demo", text))
    assert error.line == 22
    assert error.message == (f"has more than {MAX_NODES:,} YAML values (keys, list items and "
                             "texts); split it into several packs")
    assert seconds < 5  # parsing them all takes over 10 s


def padded(size: int) -> str:
    """VALID followed by a comment, `size` bytes in all."""
    padding = size - len(VALID.encode()) - len("#\n")
    return VALID + "#" + "x" * padding + "\n"


def test_a_pack_of_exactly_the_size_limit_loads(tmp_path):
    file = write_pack(tmp_path / "demo", padded(MAX_PACK_BYTES))
    assert file.stat().st_size == MAX_PACK_BYTES
    assert load_pack(file).id == "demo"


def test_a_pack_one_byte_over_the_limit_names_its_size_and_the_limit(tmp_path):
    file = write_pack(tmp_path / "demo", padded(MAX_PACK_BYTES + 1))
    error = only_error(file)
    assert error.line is None
    assert error.message == (f"is {MAX_PACK_BYTES + 1:,} bytes; a pack.yaml may be at most "
                             f"{MAX_PACK_BYTES:,} bytes (512 KiB)")


def test_a_one_gigabyte_pack_is_refused_from_its_size_without_being_read(tmp_path):
    file = tmp_path / "demo" / "pack.yaml"
    file.parent.mkdir()
    with file.open("wb") as handle:
        handle.truncate(2**30)  # sparse: no disk used, but reading it would take ~1 GB
    error, seconds = timed_error(file)
    assert f"is {2**30:,} bytes" in error.message
    assert seconds < 0.5


def test_a_pack_that_is_a_named_pipe_is_refused_not_waited_on(tmp_path):
    file = tmp_path / "demo" / "pack.yaml"
    file.parent.mkdir()
    os.mkfifo(file)
    with pytest.raises(PackValidationError) as caught:
        load_bank(tmp_path)
    [error] = caught.value.errors
    assert (error.file, error.message) == (str(file), "is not a regular file")


def test_a_pack_linked_to_an_endless_device_is_refused(tmp_path):
    file = tmp_path / "demo" / "pack.yaml"
    file.parent.mkdir()
    file.symlink_to("/dev/zero")
    assert only_error(file).message.startswith("resolves to /dev/zero, outside the pack folder")


def test_a_pack_file_linked_outside_its_folder_is_refused_unread(tmp_path):
    # Else a pull request could link pack.yaml to a secret and read it back in the errors.
    secret = tmp_path / "secret.yaml"
    secret.write_text("token: abc123\n", encoding="utf-8")
    file = tmp_path / "demo" / "pack.yaml"
    file.parent.mkdir()
    file.symlink_to(secret)
    error = only_error(file)
    assert error.message == (f"resolves to {secret}, outside the pack folder; "
                             "a pack.yaml must be a file inside it")


def test_a_pack_file_linked_inside_its_folder_loads(tmp_path):
    real = write_pack(tmp_path / "demo", VALID).rename(tmp_path / "demo" / "real.yaml")
    (tmp_path / "demo" / "pack.yaml").symlink_to(real.name)
    assert load_pack(tmp_path / "demo").id == "demo"


def test_a_pack_of_the_most_problems_allowed_loads(tmp_path):
    text = pack_text() + "".join(problem_text(f"p{i}") for i in range(2, MAX_PROBLEMS + 1))
    assert len(load_pack(write_pack(tmp_path / "demo", text)).problems) == MAX_PROBLEMS


def test_a_pack_of_too_many_problems_is_one_error_on_the_list(tmp_path):
    text = pack_text() + "".join(problem_text(f"p{i}") for i in range(2, MAX_PROBLEMS + 2))
    error = only_error(write_pack(tmp_path / "demo", text))
    assert (error.field, error.line) == ("problems", 6)
    assert error.message == (f"has {MAX_PROBLEMS + 1} problems; a pack may have at most "
                             f"{MAX_PROBLEMS}: split it")


# Characters and values PyYAML cannot read.


def test_a_nul_character_is_a_located_error(tmp_path):
    error = only_error(write_pack(tmp_path / "demo", edit("What is it?", "What\0 is it?")))
    assert error.line == 10
    assert error.message == "character U+0000 is not allowed in YAML"


def test_bytes_that_are_not_utf8_are_a_located_error(tmp_path):
    file = write_pack(tmp_path / "demo", VALID)
    file.write_bytes(VALID.replace("What is it?", "What \xff is it?").encode("latin-1"))
    error = only_error(file)
    assert error.line == 10
    assert error.message.startswith("is not UTF-8: byte 0xff")


@pytest.mark.parametrize(("old", "new", "line"), [
    pytest.param("title: A fine title", "title: 2024-13-01", 9, id="impossible-date"),
    pytest.param("hint: Think.", "hint: !!bool maybe", 16, id="bool-tag-on-a-word"),
    pytest.param("hint: Think.", "hint: !!int x", 16, id="int-tag-on-a-word"),
    pytest.param("hint: Think.", "hint: " + "9" * 5000, 16, id="5000-digit-number"),
])
def test_a_value_python_cannot_build_is_a_located_error(tmp_path, old, new, line):
    error = only_error(write_pack(tmp_path / "demo", edit(old, new)))
    assert error.line == line
    assert error.message.startswith("cannot read this value")


# Experiment scripts.


def pack_with_experiment(folder: Path) -> Path:
    return write_pack(folder, VALID + EXPERIMENT, scripts=("speedup.py",))


def test_an_experiment_linked_to_a_file_outside_the_pack_is_refused(tmp_path):
    outside = tmp_path / "outside.py"
    outside.write_text("def run(ctx):\n    return {'answer': 'B'}\n", encoding="utf-8")
    file = pack_with_experiment(tmp_path / "demo")
    script = file.parent / "experiments" / "speedup.py"
    script.unlink()
    script.symlink_to(outside)

    error = only_error(file)

    assert (error.problem, error.field, error.line) == ("first", "experiment.script", 23)
    assert error.message == (f"experiments/speedup.py resolves to {outside}, outside the pack "
                             "folder; an experiment must be a file inside it")


def test_an_experiments_folder_linked_outside_the_pack_is_refused(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "speedup.py").write_text("print('demo')\n", encoding="utf-8")
    file = write_pack(tmp_path / "demo", VALID + EXPERIMENT)
    (file.parent / "experiments").symlink_to(elsewhere, target_is_directory=True)

    error = only_error(file)

    assert error.field == "experiment.script"
    assert "outside the pack folder" in error.message


def test_a_dangling_experiment_link_is_refused(tmp_path):
    file = pack_with_experiment(tmp_path / "demo")
    script = file.parent / "experiments" / "speedup.py"
    script.unlink()
    script.symlink_to(file.parent / "experiments" / "gone.py")

    error = only_error(file)

    assert (error.field, error.line) == ("experiment.script", 23)
    assert error.message == "experiments/speedup.py is not a file"


def test_an_experiment_linked_to_a_file_inside_the_pack_loads(tmp_path):
    file = pack_with_experiment(tmp_path / "demo")
    script = file.parent / "experiments" / "speedup.py"
    script.rename(file.parent / "experiments" / "real.py")
    script.symlink_to("real.py")
    assert load_pack(file).problems[0].experiment is not None


def test_an_empty_value_is_read_as_missing_text_not_as_an_unknown_tag(tmp_path):
    error = only_error(write_pack(tmp_path / "demo", edit("hint: Think.", "hint:")))
    assert (error.field, error.line, error.message) == ("hint", 16, "must be a non-empty string")


@pytest.mark.parametrize(("text", "line", "message"), [
    pytest.param("---\n", None, "file is empty", id="document-marker-alone"),
    pytest.param("--- ''\n", 1, "the top level must be a mapping with id, title, badge and "
                 "problems", id="empty-string"),
    pytest.param("~\n", 1, "the top level must be a mapping with id, title, badge and problems",
                 id="null"),
])
def test_an_empty_document_is_an_error_not_an_empty_error_list(tmp_path, text, line, message):
    error = only_error(write_pack(tmp_path / "demo", text))
    assert (error.line, error.message) == (line, message)


@pytest.mark.parametrize(("old", "new", "line", "phrase"), [
    pytest.param("kind: conceptual", "kind: []", 7, "unknown kind []", id="kind-list"),
    pytest.param("difficulty: intermediate", "difficulty: {a: 1}", 8,
                 "unknown difficulty {'a': 1}", id="difficulty-mapping"),
])
def test_a_list_or_mapping_where_a_word_belongs_is_a_located_error(tmp_path, old, new, line,
                                                                   phrase):
    error = only_error(write_pack(tmp_path / "demo", edit(old, new)))
    assert error.line == line
    assert error.message.startswith(phrase)


@pytest.mark.parametrize(("old", "new", "shown"), [
    pytest.param("- id: first", '- id: "first\\n::error::x"', "problem 'first\\n::error::x'",
                 id="problem-id"),
    pytest.param("  name: Demo Master\n", '  name: Demo Master\n  "a\\rb\\x1b[2J": 1\n',
                 "field 'badge.a\\rb\\x1b[2J'", id="key"),
])
def test_an_error_stays_one_printable_line_whatever_the_pack_holds(tmp_path, old, new, shown):
    # Control characters from the pack are escaped, so output cannot fake lines (or CI
    # annotations) or move the terminal's cursor.
    [error] = load_errors(write_pack(tmp_path / "demo", edit(old, new)))
    assert str(error).isprintable()
    assert shown in str(error)


@pytest.mark.parametrize("params", ["{start: 2024-01-01}", "{blob: !!binary aGk=}",
                                    "{nested: [{when: 2024-01-01}]}", "{? !!binary aGk= : 1}"])
def test_experiment_params_that_json_cannot_carry_are_refused_at_load(tmp_path, params):
    # The runner sends params to the child as JSON; a date would crash the run, not the load.
    text = VALID + EXPERIMENT + f"      params: {params}\n"
    error = only_error(write_pack(tmp_path / "demo", text, scripts=("speedup.py",)))
    assert (error.problem, error.field, error.line) == ("first", "experiment.params", 24)
    assert error.message.startswith("must hold only text, numbers, true/false, lists and")
