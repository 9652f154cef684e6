"""Bad settings, arguments and pack folders are refused in one clear line, never a traceback.

Each case runs the real command (`python -m bot`) and expects exit 2 with exactly one line on
stderr of at most 200 characters: what was wrong, the value clipped and escaped, what to do.
"""

from __future__ import annotations

import pytest

from tests.bank.builders import VALID, write_pack

LONG = "x" * 6000


def refusal(result) -> str:
    """The one stderr line of a refused command."""
    assert result.returncode == 2, (result.returncode, result.stdout[-500:], result.stderr[-2000:])
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr[-2000:]
    assert len(lines[0]) <= 200 and lines[0].isprintable(), lines[0][:300]
    return lines[0]


# Settings from the environment.


@pytest.mark.parametrize("name, value", [
    ("WORKER_TIMEOUT_S", "9" * 6000), ("WORKER_MEMORY_MB", "64"), ("DEMO_PORT", "99999"),
    ("DEV_GUILD_ID", "0"), ("LOG_LEVEL", "Info\x1b[2J\x07"), ("DATABASE_PATH", LONG),
    ("QUESTIONS_PATH", "packs\n\x1b[31mred"), ("DISCORD_TOKEN", "t" * 6000),
], ids=lambda v: v[:16])
def test_a_bad_setting_stops_tutorbot_in_one_line(run_bot, bot_env, name, value):
    env = bot_env | {name: value}

    line = refusal(run_bot(env=env))

    assert line.startswith(f"tutorbot: {name} must be ")


def test_a_bad_setting_in_dotenv_is_refused_the_same_way(run_bot, bot_env, tmp_path):
    (tmp_path / ".env").write_text(f"WORKER_TIMEOUT_S={'7' * 6000}\n")
    env = {k: v for k, v in bot_env.items() if k != "WORKER_TIMEOUT_S"}

    line = refusal(run_bot("questions", "schema", env=env, cwd=tmp_path))

    assert line.startswith("tutorbot: WORKER_TIMEOUT_S must be a whole number of seconds")


# A QUESTIONS_PATH with no packs, for every command that loads them.

COMMANDS = [["play"], ["questions", "check"], ["questions", "verify"], ["run"], ["sync"],
            ["demo"], []]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "default")
@pytest.mark.parametrize("state", ["missing", "empty"])
def test_a_questions_path_without_packs_is_one_line_and_exit_2(run_bot, bot_env, tmp_path,
                                                               command, state):
    if state == "empty":
        (tmp_path / "questions").mkdir()
    env = bot_env | {"DISCORD_TOKEN": "abc.def.ghi"} if command in (["run"], ["sync"]) else \
        bot_env

    line = refusal(run_bot(*command, env=env))

    assert "QUESTIONS_PATH" in line and str(tmp_path / "questions") in line
    assert ("does not exist" if state == "missing" else "no <pack>/pack.yaml") in line


def test_a_missing_folder_given_to_check_is_one_line(run_bot, tmp_path):
    line = refusal(run_bot("questions", "check", str(tmp_path / "nowhere")))

    assert str(tmp_path / "nowhere") in line and "does not exist" in line


# Arguments.


@pytest.fixture
def one_pack(bot_env, tmp_path):
    write_pack(tmp_path / "questions" / "demo", VALID)
    return bot_env


@pytest.mark.parametrize("pack", ["nope", "Demo", "De\x1b[31mmo\x07", "D" * 6000])
def test_play_refuses_an_unknown_pack_in_one_line(run_bot, one_pack, pack):
    line = refusal(run_bot("play", "--pack", pack, env=one_pack))

    assert line.startswith("tutorbot play: no pack '")
    assert line.endswith("(known: demo)")
    assert "Traceback" not in line


def test_play_keeps_the_users_case_in_the_echo(run_bot, one_pack):
    line = refusal(run_bot("play", "--pack", "Demo", env=one_pack))

    assert line == "tutorbot play: no pack 'Demo' (known: demo)"


def test_play_escapes_control_characters_in_the_echo(run_bot, one_pack):
    line = refusal(run_bot("play", "--pack", "De\x1b[31mmo", env=one_pack))

    assert "'De\\x1b[31mmo'" in line


def test_play_clips_a_long_pack_id_and_says_how_long_it_was(run_bot, one_pack):
    line = refusal(run_bot("play", "--pack", "D" * 6000, env=one_pack))

    assert f"'{'D' * 40}…' (6000 characters)" in line


@pytest.mark.parametrize("args", [
    ["play", "--database", LONG], ["play", "--database", "t\x1b.db"],
    ["questions", "check", LONG], ["questions", "verify", "--size", LONG],
    ["demo", "--speed", "0"], ["demo", "--speed", "nan"], ["demo", "--speed", LONG],
    [LONG], ["play", LONG],
], ids=lambda a: " ".join(a)[:30])
def test_a_bad_argument_is_refused_in_one_line(run_bot, one_pack, args):
    line = refusal(run_bot(*args, env=one_pack))

    assert line.startswith("tutorbot")


@pytest.mark.parametrize("command", [["play"], ["demo"]], ids=" ".join)
def test_a_broken_pack_lists_its_errors_instead_of_a_traceback(run_bot, bot_env, tmp_path,
                                                               command):
    write_pack(tmp_path / "questions" / "demo", VALID.replace("answer: B", "answer: E"))

    result = run_bot(*command)

    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr[-2000:]
    errors, summary = result.stderr.splitlines()
    assert "field 'answer': 'E' is not one of the choices" in errors
    assert summary.startswith("tutorbot: 1 error(s) in the packs at ")


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("unreachable", ["redis", "postgres"])
def test_a_worker_that_cannot_reach_its_servers_says_which_in_one_line(run_bot, one_pack,
                                                                       unreachable):
    env = dict(one_pack, REDIS_URL=f"redis://127.0.0.1:{closed_port()}/0")
    if unreachable == "postgres":
        env["DATABASE_URL"] = f"postgresql://tutor:s3cret@127.0.0.1:{closed_port()}/tutorbot"
    done = run_bot("worker", env=env)

    assert done.returncode == 1
    lines = [line for line in done.stderr.splitlines() if line.startswith("tutorbot worker:")]
    assert len(lines) == 1 and "Traceback" not in done.stderr
    assert ("Cannot reach Redis" if unreachable == "redis" else "Cannot reach the database") \
        in lines[0]
    assert "s3cret" not in done.stderr + done.stdout
