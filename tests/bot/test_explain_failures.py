"""A failing explanation run gets a clear private message, and the bot carries on."""

import dataclasses

import pytest

from tests.bot.helpers import revealed_why_button, until_answered


@pytest.fixture
def config(config):
    return dataclasses.replace(config, worker_size="test", worker_timeout_s=1)


async def test_a_run_over_its_time_limit_is_explained_and_the_bot_carries_on(env, room):
    why = await revealed_why_button(env, room, kind="metrics")
    pressed = await room.members[0].click(room.post(), custom_id=why)
    response = await until_answered(env, pressed, lambda r: "longer than" in (r.content or ""))
    assert "took longer than 1 s and was stopped" in response.content
    again = await room.admin.slash(room.channel, "challenge")
    assert "Challenge posted" in again.response.content
