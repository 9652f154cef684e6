"""A failing explanation run gets a clear private message, and the bot carries on."""

import asyncio
import dataclasses

import pytest

from tests.bot.helpers import buttons


@pytest.fixture
def config(config):
    return dataclasses.replace(config, worker_size="test", worker_timeout_s=1)


async def test_a_run_over_its_time_limit_is_explained_and_the_bot_carries_on(env, room):
    env.bot.wait_external = lambda run: env.external_wait(run, reason="experiment child process")
    await room.admin.slash(room.channel, "challenge", kind="metrics")
    await room.admin.slash(room.channel, "challenge-stop")
    why = next(b for b in buttons(room.post()) if b.label == "Why? (run it)")
    pressed = await room.members[0].click(room.post(), custom_id=why.custom_id)
    for _ in range(300):  # the child process runs in real time, outside the simulation
        if pressed.response is not None and "longer than" in (pressed.response.content or ""):
            break
        await asyncio.sleep(0.1)
    await env.settle()
    assert "took longer than 1 s and was stopped" in pressed.response.content
    again = await room.admin.slash(room.channel, "challenge")
    assert "Challenge posted" in again.response.content
