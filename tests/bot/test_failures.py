"""When Discord or the bot fails midway, nothing stays stuck and nothing is lost."""

from tests.bot.helpers import challenge_id
from tests.bot.test_restart import restart


def revealed(room) -> bool:
    return len(room.post().embeds) == 2 and room.post().embeds[1].title == "Answer revealed"


async def test_a_failed_reveal_edit_is_retried(env, room):
    await room.admin.slash(room.channel, "challenge")
    env.inject_error("PATCH", "/channels/*/messages/*", status=400, code=50035, times=1)
    await env.advance_time(121)
    assert not revealed(room)
    assert env.errors == []  # logged and retried, not raised
    await env.advance_time(31)
    assert revealed(room)


async def test_a_reveal_cut_short_by_a_crash_is_redone_at_start_up(env, room, make_bot):
    await room.admin.slash(room.channel, "challenge")
    cid = challenge_id(room.post())
    await env.bot.tutor.poster.timers.close()
    await env.bot.tutor.challenges.close(cid, env.now().timestamp())  # closed, then the bot died
    await restart(env, make_bot)
    await env.advance_time(0.1)
    assert revealed(room)


async def test_a_failed_post_does_not_block_the_channel(env, room):
    env.inject_error("POST", "/channels/*/messages", status=400, code=50035, times=1)
    failed = await room.admin.slash(room.channel, "challenge")
    assert "didn't accept the post" in failed.response.content
    retried = await room.admin.slash(room.channel, "challenge")
    assert "Challenge posted" in retried.response.content
