"""Challenges survive a restart: buttons keep working, reveals still come, nothing is lost."""

from tests.bot.helpers import answer_id, challenge_id, key_of, points_in_db, wrong


async def restart(env, make_bot):
    old = env.bot
    await env.restart_bot(make_bot())
    await old.release()  # simcord detaches the old bot without calling close()


async def test_clicks_and_the_reveal_work_after_a_restart(env, room, make_bot, config):
    await room.admin.slash(room.channel, "challenge")
    post = room.post()
    key = await key_of(env, post)
    before = await room.members[0].click(post, custom_id=answer_id(post, key))
    assert "Correct" in before.response.content

    await restart(env, make_bot)

    after = await room.members[1].click(post, custom_id=answer_id(post, wrong(key)))
    assert after.response.content == "❌ Not quite. 1 attempt left."
    again = await room.members[0].click(post, custom_id=answer_id(post, key))
    assert "already solved" in again.response.content  # the answer before the restart stands
    await env.advance_time(121)
    assert room.post().embeds[1].title == "Answer revealed"
    assert set(points_in_db(config.database_path, room.guild.id)) == {room.members[0].id,
                                                                       room.members[1].id}


async def test_a_challenge_that_ended_while_down_is_revealed_at_start_up(env, room, make_bot):
    await room.admin.slash(room.channel, "challenge")
    post = room.post()
    cid = challenge_id(post)
    old = env.bot
    await old.tutor.poster.timers.close()  # the bot goes down before the deadline, timers too
    await env.advance_time(300)
    await restart(env, make_bot)
    await env.advance_time(0.1)
    assert (await env.bot.tutor.challenges.get(cid)).closed_at is not None
    assert room.post().embeds[1].title == "Answer revealed"
