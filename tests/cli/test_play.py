"""`python -m bot play`: a practice round in the terminal, driven through stdin."""

from __future__ import annotations

import functools
import io
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.cli import play
from tests.bank.builders import VALID, write_pack

PACK = "pretrained-models"
# Problem 1: wrong then right; 2: hint, an invalid letter, right; 3-5: right at once.
ALL_CORRECT = ["A", "D", "h", "Z", "A", "B", "C", "A"]
KEYS = ["D", "A", "B", "C", "A"]
SUMMARY = re.compile(r"Round over: (\d+) points this round · (\d+) in all · streak (\d+)")
CORRECT = re.compile(r"✅ Correct! \+(\d+) points \(total (\d+)\)")


def copy_pack(repo_root: Path, questions: Path) -> Path:
    """Copies the shipped pack; stubs any experiment script not written yet (not played here)."""
    target = questions / PACK
    shutil.copytree(repo_root / "questions" / PACK, target)
    data = yaml.safe_load((target / "pack.yaml").read_text(encoding="utf-8"))
    for problem in data["problems"]:
        script = (problem.get("experiment") or {}).get("script")
        if script and not (target / "experiments" / script).exists():
            (target / "experiments").mkdir(exist_ok=True)
            (target / "experiments" / script).write_text("", encoding="utf-8")
    return questions


def play_in_terminal(repo_root: Path, tmp: Path, answers: list[str]) -> subprocess.CompletedProcess:
    questions = copy_pack(repo_root, tmp / "questions")
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISCORD_TOKEN", "PYTHONPATH")}
    env.update(QUESTIONS_PATH=str(questions), DATABASE_PATH=str(tmp / "play.db"),
               PYTHONIOENCODING="utf-8", LOG_LEVEL="WARNING")
    stdin = "".join(f"{line}\n" for line in answers)
    return subprocess.run([sys.executable, "-m", "bot", "play"], cwd=repo_root, env=env,
                          input=stdin, capture_output=True, text=True, encoding="utf-8",
                          timeout=60)


def stored_points(database: Path) -> int:
    with sqlite3.connect(database) as db:
        row = db.execute("SELECT points FROM members WHERE guild_id = 0 AND member_id = 1")
        return row.fetchone()[0]


@pytest.fixture(scope="module")
def full_round(tmp_path_factory):
    """One scripted round answering all five problems correctly, shared by the tests below."""
    repo_root = Path(__file__).resolve().parents[2]
    tmp = tmp_path_factory.mktemp("play")
    result = play_in_terminal(repo_root, tmp, ALL_CORRECT)
    return result, tmp / "play.db"


@pytest.fixture
def output(full_round) -> str:
    return full_round[0].stdout


def test_full_round_exits_0(full_round):
    result, _ = full_round
    assert result.returncode == 0, result.stderr


def test_every_prompt_shows_the_time_left(output):
    timers = re.findall(r"\[(\d+):(\d\d) left\]", output)
    assert len(timers) == len(ALL_CORRECT)
    assert all(0 < int(m) * 60 + int(s) <= 120 for m, s in timers)


def test_wrong_answer_says_how_many_attempts_are_left(output):
    assert "❌ Not quite. 1 attempt(s) left." in output


def test_hint_is_shown_with_its_cost(output):
    assert ("💡 Only the new final layer's parameters are trainable. Calculate the number of "
            "parameters in the new linear layer. (−25 points if you get it right)") in output


def test_invalid_letter_asks_for_a_valid_one(output):
    assert "Please answer with one of A, B, C, D, or h for the hint." in output


def test_every_problem_is_answered_correctly(output):
    assert len(CORRECT.findall(output)) == 5


def test_explanation_follows_each_problem(output):
    assert re.findall(r"^Answer: ([A-E])\. ", output, re.MULTILINE) == KEYS
    assert output.count("Why not the others:") == 5


def test_second_attempt_and_hint_lower_the_points(output):
    first, second, third = (int(points) for points, _ in CORRECT.findall(output)[:3])
    assert 50 <= first <= 75  # intermediate (100 + up to 50 speed bonus) × ½ for attempt 2
    assert 75 <= second <= 112  # the same, × ¾ after the hint
    assert third > 150  # advanced, first try, no hint: 150 + speed bonus


def test_final_score_line(output):
    gained = sum(int(points) for points, _ in CORRECT.findall(output))
    [(this_round, in_all, streak)] = SUMMARY.findall(output)
    assert (int(this_round), int(in_all), int(streak)) == (gained, gained, 5)


def test_pack_badge_awarded_for_five_correct(output):
    assert "🏅 New badge: 🎖️ Pre-trained Model Master: " in output
    badges_line = output.strip().splitlines()[-1]
    assert badges_line.startswith("Badges: ")
    assert "🎖️ Pre-trained Model Master" in badges_line


def test_points_in_output_equal_points_in_database(full_round, output):
    _, database = full_round
    [(_, in_all, _)] = SUMMARY.findall(output)
    assert stored_points(database) == int(in_all)


def test_q_quits_cleanly_with_the_summary(repo_root, tmp_path):
    result = play_in_terminal(repo_root, tmp_path, ["q"])

    assert result.returncode == 0, result.stderr
    assert "\nStopped." in result.stdout
    assert SUMMARY.findall(result.stdout) == [("0", "0", "0")]


def test_quitting_closes_the_open_challenge(repo_root, tmp_path):
    play_in_terminal(repo_root, tmp_path, ["q"])

    with sqlite3.connect(tmp_path / "play.db") as db:
        rows = db.execute("SELECT problem_id, closed_at IS NOT NULL FROM challenges").fetchall()
    assert rows == [("pretrained-speedup", 1)]


def test_end_of_input_stops_like_q(repo_root, tmp_path):
    result = play_in_terminal(repo_root, tmp_path, [])

    assert result.returncode == 0, result.stderr
    assert "\nStopped." in result.stdout
    assert SUMMARY.findall(result.stdout) == [("0", "0", "0")]


def test_points_after_quitting_mid_round_are_in_the_database(repo_root, tmp_path):
    result = play_in_terminal(repo_root, tmp_path, ["D", "q"])

    [(gained, _)] = CORRECT.findall(result.stdout)
    [(_, in_all, _)] = SUMMARY.findall(result.stdout)
    assert int(in_all) == int(gained) == stored_points(tmp_path / "play.db")


def test_points_this_round_survive_quitting(repo_root, tmp_path):
    result = play_in_terminal(repo_root, tmp_path, ["D", "q"])

    [(gained, _)] = CORRECT.findall(result.stdout)
    [(this_round, _, _)] = SUMMARY.findall(result.stdout)
    assert this_round == gained


# In process, with a fake clock.


class FakeClock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def test_run_play_when_time_runs_out(tmp_path, monkeypatch):
    questions = tmp_path / "questions"
    write_pack(questions / "demo", VALID + "    time_limit: 10\n")
    clock = FakeClock()
    monkeypatch.setattr(play, "Round", functools.partial(play.Round, clock=clock))

    def read_line() -> str:
        clock.now += 11  # the player thinks past the 10 s limit
        return "B\n"

    out = io.StringIO()
    code = await play.run_play(questions, tmp_path / "t.db", None, read_line, out)

    text = out.getvalue()
    assert code == 0
    assert "[0:10 left]" in text
    assert "⏰ Time is up for this one." in text
    assert "\nAnswer: B. beta" in text
    assert SUMMARY.findall(text) == [("0", "0", "0")]


async def test_run_play_rejects_an_unknown_pack(tmp_path):
    write_pack(tmp_path / "questions" / "demo", VALID)
    with pytest.raises(play.UnknownPack, match=r"^no pack 'nope' \(known: demo\)$"):
        await play.run_play(tmp_path / "questions", tmp_path / "t.db", "nope",
                            lambda: "", io.StringIO())


def test_known_ids_fit_in_their_limit_and_say_how_many_there_are():
    ids = [f"pack-{n:02d}" for n in range(30)]
    assert play.known_ids(ids[:2]) == "pack-00, pack-01"
    shown = play.known_ids(ids, limit=40)
    assert shown == "pack-00, pack-01, pack-02, pack-03, … (30 packs)"  # 38 characters of ids


def test_format_left_shows_minutes_and_seconds():
    assert [play.format_left(s) for s in (120, 59.9, 0, -3)] == ["2:00", "0:59", "0:00", "0:00"]


