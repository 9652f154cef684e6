"""The Why? button runs the real experiment (torch, CPU, test size) and then answers from cache."""

import dataclasses

import pytest

from tests.bot.helpers import revealed_why_button, until_answered


@pytest.fixture
def config(config):
    return dataclasses.replace(config, worker_size="test")


async def test_why_posts_the_run_with_a_plot_and_a_second_press_is_cached(env, room):
    why = await revealed_why_button(env, room, kind="predict-output")
    first = await room.members[0].click(room.post(), custom_id=why)
    assert first.ephemeral and first.acknowledged
    response = await until_answered(env, first, lambda r: r.embeds)
    embed = response.embeds[0]
    assert "5130" in embed.description
    fields = {f.name: f.value for f in embed.fields}
    assert fields["Answer the run derives"].startswith("**A** (✅")
    assert "fresh run" in fields["Ran on"]
    png = response.attachments[0]
    assert png.filename.endswith(".png") and embed.image.url.endswith(png.filename)
    assert (await png.read()).startswith(b"\x89PNG")

    second = await room.members[1].click(room.post(), custom_id=why)
    assert "cached run" in {f.name: f.value for f in second.response.embeds[0].fields}["Ran on"]


async def test_explain_command_autocompletes_problems_with_experiments(env, room):
    choices = await room.members[0].autocomplete(room.channel, "explain", "problem", "learning")
    assert [c["value"] for c in choices] == ["finetune-learning-rates"]


async def test_explain_waits_for_the_reveal_of_a_running_challenge(env, room):
    await room.admin.slash(room.channel, "challenge", kind="predict-output")
    early = await room.members[0].slash(room.channel, "explain",
                                        problem="frozen-resnet18-trainable-params")
    assert early.ephemeral and "unlocks with the reveal" in early.response.content
