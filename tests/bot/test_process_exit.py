"""A test run on simcord's standard fixtures ends, even when its test fails and pytest keeps
the traceback (and with it the bot) alive: nothing the bot started may outlive the run."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from tests.bot.conftest import REPO

FAILING_TEST = textwrap.dedent("""
    from tests.bot.conftest import config, make_bot, questions_path, simcord_bot  # noqa: F401

    async def test_fails_after_using_the_bot(simcord_env):
        await simcord_env.bot.tree.sync()
        guild = simcord_env.create_guild("Study Group")
        member = guild.add_member(simcord_env.create_user("kim"))
        await member.slash(guild.create_text_channel("quiz"), "badges")
        assert False, "fails on purpose"
""")


def test_pytest_exits_after_a_failing_test_on_simcords_own_fixture(tmp_path):
    test_file = tmp_path / "test_fails_on_purpose.py"
    test_file.write_text(FAILING_TEST)
    finished = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o",
         "asyncio_mode=auto", "--rootdir", str(tmp_path), str(test_file)],
        cwd=REPO, capture_output=True, text=True, timeout=90)
    assert "1 failed" in finished.stdout, finished.stdout[-2000:] + finished.stderr[-2000:]
    assert finished.returncode == 1
