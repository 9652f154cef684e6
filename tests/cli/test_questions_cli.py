"""`python -m bot questions check|schema`: what pack authors run."""

from __future__ import annotations

import io
import json

from bot.bank.schema import pack_schema
from bot.cli.questions import check
from tests.bank.builders import VALID, pack_text, write_pack

BROKEN = VALID.replace("kind: conceptual", "kind: trivia").replace("answer: B", "answer: E")


def test_check_valid_folder_exits_0_with_a_summary(run_bot, tmp_path):
    write_pack(tmp_path / "packs" / "a", pack_text("demo", "first"))
    write_pack(tmp_path / "packs" / "b", pack_text("other", "second"))

    result = run_bot("questions", "check", str(tmp_path / "packs"))

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "✓ demo: 1 problems (conceptual); badge: Demo Master" in lines
    assert lines[-1] == "2 pack(s), 2 problems: all valid"
    assert result.stderr == ""


def test_check_invalid_folder_exits_1_listing_every_error(run_bot, tmp_path):
    file = write_pack(tmp_path / "packs" / "demo", BROKEN)

    result = run_bot("questions", "check", str(tmp_path / "packs"))

    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"{file}:7: problem 'first': field 'kind': unknown kind 'trivia' (one of: conceptual, "
        "predict-output, model-choice, hyperparameter, metrics)",
        f"{file}:15: problem 'first': field 'answer': 'E' is not one of the choices (A, B, C)",
        f"2 errors in {tmp_path / 'packs'}",
    ]
    assert result.stdout == ""


def test_check_one_error_says_error_in_the_singular(run_bot, tmp_path):
    write_pack(tmp_path / "packs" / "demo", VALID.replace("answer: B", "answer: E"))

    result = run_bot("questions", "check", str(tmp_path / "packs"))

    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == f"1 error in {tmp_path / 'packs'}"


def test_check_without_path_uses_questions_path(run_bot, bot_env, tmp_path):
    write_pack(tmp_path / "questions" / "demo", VALID)

    result = run_bot("questions", "check")

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "1 pack(s), 1 problems: all valid"


def test_schema_prints_the_json_schema(run_bot):
    result = run_bot("questions", "schema")

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == pack_schema()


def test_check_in_process_valid_pack(tmp_path):
    file = write_pack(tmp_path / "demo", VALID)
    out, err = io.StringIO(), io.StringIO()

    assert check(file, out, err) == 0

    assert out.getvalue().splitlines() == [
        "✓ demo: 1 problems (conceptual); badge: Demo Master",
        "1 pack(s), 1 problems: all valid",
    ]
    assert err.getvalue() == ""


def test_check_in_process_invalid_pack(tmp_path):
    file = write_pack(tmp_path / "demo", BROKEN)
    out, err = io.StringIO(), io.StringIO()

    assert check(file, out, err) == 1

    lines = err.getvalue().splitlines()
    assert [line.split(": ")[0] for line in lines[:2]] == [f"{file}:7", f"{file}:15"]
    assert lines[-1] == f"2 errors in {file}"
    assert out.getvalue() == ""
