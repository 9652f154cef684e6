"""Malformed packs: each is rejected with the precise error (file, problem, field, line, message).

The pack texts are edits of builders.VALID; its docstring lists the line numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.bank import PackError, PackValidationError, load_bank, load_pack
from bot.bank.text import reveal_body
from tests.bank.builders import VALID, pack_text, problem_text, write_pack


def edit(*replacements: tuple[str, str]) -> str:
    """VALID with each (old, new) applied; old must occur exactly once."""
    text = VALID
    for old, new in replacements:
        assert text.count(old) == 1, f"{old!r} should occur once"
        text = text.replace(old, new)
    return text


SOURCES = "    sources: [{title: Demo documentation}]\n"


def append(lines: str) -> str:
    return VALID + lines


@dataclass(frozen=True)
class Case:
    id: str
    text: str
    field: str | None
    problem: str | None
    line: int | None
    phrase: str
    scripts: tuple[str, ...] = ()


CASES = [
    # Keys.
    Case("unknown-top-level-key", append("colour: blue\n"), "colour", None, 22,
         "unknown key (expected one of: badge, defaults, id, problems, summary, title)"),
    Case("unknown-problem-key", edit(("    hint: Think.\n", "    hint: Think.\n    points: 10\n")),
         "points", "first", 17, "unknown key (expected one of: answer, attempts, choices, code,"),
    Case("missing-answer", edit(("    answer: B\n", "")), "answer", "first", 6,
         "missing required key"),
    Case("duplicate-top-level-yaml-key",
         edit(("title: Demo pack\n", "title: Demo pack\ntitle: Again\n")), "title", None, 3,
         "duplicate key"),
    # Values.
    Case("bad-problem-id", edit(("- id: first", "- id: First_Problem")), "id", "First_Problem",
         6, "must be lower-case letters, digits and '-', at most 48"),
    Case("duplicate-problem-id", append(problem_text("first")), "id", "first", 22,
         "duplicate id (also problem #1)"),
    Case("unknown-kind", edit(("kind: conceptual", "kind: trivia")), "kind", "first", 7,
         "unknown kind 'trivia' (one of: conceptual, predict-output, model-choice, "
         "hyperparameter, metrics)"),
    Case("unknown-difficulty", edit(("difficulty: intermediate", "difficulty: easy")),
         "difficulty", "first", 8,
         "unknown difficulty 'easy' (one of: intermediate, advanced, expert)"),
    Case("time-limit-5", append("    time_limit: 5\n"), "time_limit", "first", 22,
         "5 s is outside 10–900 s"),
    Case("time-limit-901", append("    time_limit: 901\n"), "time_limit", "first", 22,
         "901 s is outside 10–900 s"),
    Case("time-limit-not-a-number", append("    time_limit: soon\n"), "time_limit", "first", 22,
         "must be a whole number from 10 to 900 s"),
    Case("default-time-limit-5", edit(("problems:\n", "defaults:\n  time_limit: 5\nproblems:\n")),
         "defaults.time_limit", None, 6, "5 s is outside 10–900 s"),
    Case("attempts-0", append("    attempts: 0\n"), "attempts", "first", 22,
         "0 is outside 1–5"),
    Case("attempts-6", append("    attempts: 6\n"), "attempts", "first", 22,
         "6 is outside 1–5"),
    Case("title-81-chars", edit(("title: A fine title", "title: " + "t" * 81)), "title", "first",
         9, "is 81 characters; Discord allows 80"),
    # Choices, answer and why_not.
    Case("answer-not-among-choices", edit(("answer: B", "answer: E")), "answer", "first", 15,
         "'E' is not one of the choices (A, B, C)"),
    Case("choice-letters-out-of-order",
         edit(("      B: beta\n", ""), ("answer: B", "answer: C"), ("      C: not gamma\n", "")),
         "choices", "first", 12, "letters must be A, B in order, got A, C"),
    Case("only-one-choice",
         edit(("      B: beta\n      C: gamma\n", ""), ("answer: B", "answer: A"),
              ("    why_not:\n      A: not alpha\n      C: not gamma\n", "")),
         "choices", "first", 12, "has 1 choices; allowed 2 to 5"),
    Case("why-not-explains-the-answer",
         edit(("      C: not gamma\n", "      B: not beta\n      C: not gamma\n")),
         "why_not.B", "first", 21, "explains the correct answer; use 'explanation' for that"),
    Case("why-not-unknown-letter", append("      E: not epsilon\n"), "why_not.E", "first", 22,
         "'E' is not one of the choices"),
    # Discord's limits, checked against the rendered text.
    Case("prompt-breaks-embed-description", edit(("prompt: What is it?", "prompt: " + "x" * 4100)),
         "prompt", "first", 10,
         "prompt, code and choices render to 4139 characters; an embed description allows 4096"),
    Case("explanation-and-why-not-break-embed-description",
         edit(("explanation: Because.", "explanation: " + "x" * 2600),
              ("A: not alpha", "A: " + "a" * 800), ("C: not gamma", "C: " + "c" * 800)),
         "explanation", "first", 17,
         "the reveal (explanation, why_not, sources) renders to 4293 characters; an embed "
         "description allows 4096"),
    Case("revealed-post-breaks-message-limit",
         edit(("prompt: What is it?", "prompt: " + "x" * 3000),
              ("explanation: Because.", "explanation: " + "x" * 2000),
              ("A: not alpha", "A: " + "a" * 400), ("C: not gamma", "C: " + "c" * 400)),
         None, "first", 6,
         "the revealed post needs 7562 characters; Discord allows 6000 across a message's embeds"),
    # Experiments.
    Case("experiment-script-missing", append("    experiment:\n      script: speedup.py\n"),
         "experiment.script", "first", 23, "experiments/speedup.py does not exist",
         scripts=("other.py",)),
    Case("experiment-script-outside-folder", append("    experiment:\n      script: ../evil.py\n"),
         "experiment.script", "first", 23, "must be a Python file name such as speedup.py"),
    # Sources: a key no experiment checks names what backs it.
    Case("no-experiment-and-no-sources", edit((SOURCES, "")), "sources", "first", 6,
         "a problem without an experiment must name its sources"),
    Case("sources-not-a-list", edit((SOURCES, "    sources: the docs\n")), "sources", "first",
         18, "must be a list of 1 to 5 sources"),
    Case("sources-empty", edit((SOURCES, "    sources: []\n")), "sources", "first", 18,
         "must be a list of 1 to 5 sources"),
    Case("six-sources", edit((SOURCES, "    sources: [" + ", ".join(["{title: t}"] * 6) + "]\n")),
         "sources", "first", 18, "must be a list of 1 to 5 sources"),
    Case("source-without-title", edit((SOURCES, "    sources: [{url: 'https://a.org'}]\n")),
         "sources[0].title", "first", 18, "missing required key"),
    Case("source-unknown-key", edit((SOURCES, "    sources: [{title: t, page: 3}]\n")),
         "sources[0].page", "first", 18, "unknown key"),
    Case("source-url-not-an-address",
         edit((SOURCES, "    sources: [{title: t, url: 'docs.pytorch.org/x'}]\n")),
         "sources[0].url", "first", 18, "must be one http(s) address"),
    Case("source-url-with-a-space",
         edit((SOURCES, "    sources: [{title: t, url: 'https://a.org/x y'}]\n")),
         "sources[0].url", "first", 18, "without spaces or brackets"),
    Case("source-section-too-long",
         edit((SOURCES, "    sources: [{title: t, section: " + "s" * 201 + "}]\n")),
         "sources[0].section", "first", 18, "is 201 characters"),
    # The file as a whole.
    Case("yaml-syntax-error", edit(("prompt: What is it?", "prompt: What: is it?")), None, None,
         10, "YAML syntax: mapping values are not allowed here"),
    Case("empty-file", "", None, None, None, "file is empty"),
    Case("top-level-is-a-list", "- id: demo\n  title: Demo pack\n", None, None, 1,
         "the top level must be a mapping with id, title, badge and problems"),
]


def load_errors(folder: Path, text: str, scripts: tuple[str, ...] = ()) -> list[PackError]:
    file = write_pack(folder, text, scripts)
    with pytest.raises(PackValidationError) as caught:
        load_pack(file)
    return caught.value.errors


def test_the_base_pack_is_valid(tmp_path):
    pack = load_pack(write_pack(tmp_path / "demo", VALID))
    assert [p.id for p in pack.problems] == ["first"]


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in CASES])
def test_malformed_pack_reports_the_precise_error(tmp_path, case: Case):
    file = tmp_path / "demo" / "pack.yaml"

    errors = load_errors(file.parent, case.text, case.scripts)

    assert len(errors) == 1, "\n".join(map(str, errors))
    error = errors[0]
    assert error.file == str(file)
    assert (error.field, error.problem, error.line) == (case.field, case.problem, case.line)
    assert case.phrase in error.message


def test_a_problem_with_an_experiment_needs_no_sources(tmp_path):
    text = edit((SOURCES, "    experiment: {script: speedup.py}\n"))
    pack = load_pack(write_pack(tmp_path / "demo", text, scripts=("speedup.py",)))
    assert pack.problems[0].sources == ()


def test_sources_load_and_show_at_the_reveal_as_links(tmp_path):
    text = edit((SOURCES, "    sources:\n"
                          "      - title: 'torch.nn.BatchNorm2d [docs]'\n"
                          "        section: ' Shape '\n"
                          "        url: https://docs.pytorch.org/docs/stable/nn.html\n"
                          "      - title: A book\n"))
    problem = load_pack(write_pack(tmp_path / "demo", text)).problems[0]
    assert [(s.title, s.section, s.url) for s in problem.sources] == [
        ("torch.nn.BatchNorm2d [docs]", "Shape", "https://docs.pytorch.org/docs/stable/nn.html"),
        ("A book", None, None)]
    assert reveal_body(problem).endswith(
        "📚 **Read more**\n"
        "- [torch.nn.BatchNorm2d (docs), Shape](<https://docs.pytorch.org/docs/stable/nn.html>)\n"
        "- A book")


def test_experiment_script_present_in_experiments_folder_loads(tmp_path):
    text = append("    experiment:\n      script: speedup.py\n      params: {epochs: 2}\n")
    pack = load_pack(write_pack(tmp_path / "demo", text, scripts=("speedup.py",)))
    experiment = pack.problems[0].experiment
    assert experiment is not None
    assert experiment.script == "speedup.py"
    assert dict(experiment.params) == {"epochs": 2}
    assert experiment.path(pack.directory).is_file()


def test_duplicate_problem_ids_across_two_packs(tmp_path):
    write_pack(tmp_path / "a", pack_text("demo", "first"))
    second = write_pack(tmp_path / "b", pack_text("other", "first"))

    with pytest.raises(PackValidationError) as caught:
        load_bank(tmp_path)

    [error] = caught.value.errors
    assert error.file == str(second)
    assert (error.problem, error.field) == ("first", "id")
    assert "duplicate id, also in pack 'demo'" in error.message


def test_duplicate_pack_ids_across_two_packs(tmp_path):
    first = write_pack(tmp_path / "a", pack_text("demo", "first"))
    second = write_pack(tmp_path / "b", pack_text("demo", "second"))

    with pytest.raises(PackValidationError) as caught:
        load_bank(tmp_path)

    [error] = caught.value.errors
    assert (error.file, error.field) == (str(second), "id")
    assert f"pack id also used by {first}" in error.message


def test_errors_of_every_pack_in_a_folder_are_reported_together(tmp_path):
    write_pack(tmp_path / "a", edit(("kind: conceptual", "kind: trivia")))
    write_pack(tmp_path / "b", pack_text("other", "second").replace("answer: B", "answer: E"))

    with pytest.raises(PackValidationError) as caught:
        load_bank(tmp_path)

    assert [(Path(e.file).parent.name, e.field) for e in caught.value.errors] == [
        ("a", "kind"), ("b", "answer")]


def test_a_folder_without_packs_is_an_error(tmp_path):
    with pytest.raises(PackValidationError) as caught:
        load_bank(tmp_path)
    [error] = caught.value.errors
    assert error.message == "no pack.yaml found"


def test_three_errors_in_one_file_are_reported_at_once(tmp_path):
    text = edit(("kind: conceptual", "kind: trivia"), ("answer: B", "answer: E")) + (
        "    time_limit: 5\n")

    errors = load_errors(tmp_path / "demo", text)

    assert [(e.problem, e.field, e.line) for e in errors] == [
        ("first", "kind", 7), ("first", "answer", 15), ("first", "time_limit", 22)]


def test_error_reads_path_line_problem_field_message(tmp_path):
    file = tmp_path / "demo" / "pack.yaml"
    [error] = load_errors(file.parent, edit(("answer: B", "answer: E")))

    assert str(error) == (
        f"{file}:15: problem 'first': field 'answer': 'E' is not one of the choices (A, B, C)")


def test_error_without_problem_or_line_leaves_those_parts_out(tmp_path):
    assert str(PackError("p.yaml", "unknown key", field="colour", line=3)) == (
        "p.yaml:3: field 'colour': unknown key")
    assert str(PackError("p.yaml", "file is empty")) == "p.yaml: file is empty"


def test_validation_error_message_lists_every_error(tmp_path):
    text = edit(("kind: conceptual", "kind: trivia"), ("answer: B", "answer: E"))
    file = write_pack(tmp_path / "demo", text)

    with pytest.raises(PackValidationError) as caught:
        load_pack(file)

    assert str(caught.value).splitlines() == [str(e) for e in caught.value.errors]
    assert len(caught.value.errors) == 2


def test_duplicate_yaml_key_inside_a_problem_names_the_key_and_its_line(tmp_path):
    [error] = load_errors(tmp_path / "demo", append("    answer: C\n"))
    assert (error.field, error.line, error.message) == ("answer", 22, "duplicate key")


# Edge cases found in review: odd YAML must still give a located PackError, never a crash.


def test_duplicate_problem_id_across_packs_names_the_line(tmp_path):
    write_pack(tmp_path / "a", pack_text("demo", "first"))
    write_pack(tmp_path / "b", pack_text("other", "first"))
    with pytest.raises(PackValidationError) as caught:
        load_bank(tmp_path)
    [error] = caught.value.errors
    assert error.line == 6


def test_duplicate_yaml_key_inside_a_problem_names_the_problem(tmp_path):
    [error] = load_errors(tmp_path / "demo", append("    answer: C\n"))
    assert error.problem == "first"


def test_unknown_yaml_tag_is_a_pack_error(tmp_path):
    [error] = load_errors(tmp_path / "demo", edit(("title: A fine title", "title: !foo bar")))
    assert error.line == 9


def test_unhashable_yaml_key_is_a_pack_error(tmp_path):
    [error] = load_errors(tmp_path / "demo", append("? [a, b]\n: 1\n"))
    assert error.line == 22


def test_problem_id_with_a_trailing_newline_is_rejected(tmp_path):
    [error] = load_errors(tmp_path / "demo", edit(("- id: first", '- id: "first\\n"')))
    assert error.field == "id"
