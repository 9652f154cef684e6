"""A challenge as a study group lives it: post, clicks, hint, deadline, reveal."""

import re

from tests.bot.burst import burst_click
from tests.bot.helpers import answer_id, buttons, challenge_id, key_of, points_in_db, wrong


async def start(room, **options):
    result = await room.admin.slash(room.channel, "challenge", **options)
    assert result.ephemeral and "Challenge posted" in result.response.content
    return room.post()


async def test_challenge_posts_problem_with_buttons_and_countdown(env, room):
    post = await start(room, pack="pretrained-models")
    embed = post.embeds[0]
    assert re.search(r"<t:\d+:R>", embed.fields[0].value)
    assert "**A.**" in embed.description and embed.author.name
    assert [b.label for b in buttons(post)] == ["A", "B", "C", "D", "Hint"]
    assert embed.footer.text == "0 answered"


async def test_the_predict_output_problem_shows_its_code_block(env, room):
    await start(room, kind="predict-output")
    assert "```python\nimport torch" in room.post().embeds[0].description


async def test_fifty_members_clicking_at_once_each_get_their_own_answer(env, room, config):
    students = [room.guild.add_member(env.create_user(f"s{i}")) for i in range(50)]
    post = await start(room)
    key = await key_of(env, post)
    picks = ["ABCD"[i % 4] for i in range(50)]
    results = await burst_click(env, students, post, lambda i, _: answer_id(post, picks[i]))
    told = {}
    for student, pick, result in zip(students, picks, results, strict=True):
        assert result.acknowledged and result.ephemeral
        text = result.response.content
        if pick == key:
            assert text.startswith("✅ **Correct!**")
            told[student.id] = int(re.search(r"\+(\d+) points", text)[1])
        else:
            assert text == "❌ Not quite. 1 attempt left."
            told[student.id] = 0
    # A second burst: those who were right are told so; the others use their last attempt.
    again = await burst_click(env, students, post, lambda i, _: answer_id(post, wrong(key)))
    for pick, result in zip(picks, again, strict=True):
        expected = "already solved" if pick == key else "last attempt"
        assert expected in result.response.content
    # Every member who was told a result is on disk with exactly those points, and no one else.
    assert points_in_db(config.database_path, room.guild.id) == told


async def test_hint_then_wrong_then_right_then_no_attempts_left(env, room):
    post = await start(room)
    key = await key_of(env, post)
    member = room.members[0]
    hint = await member.click(post, custom_id=f"tutor:hint:{challenge_id(post)}")
    assert hint.ephemeral and hint.response.content.startswith("💡 **Hint:**")
    first = await member.click(post, custom_id=answer_id(post, wrong(key)))
    assert first.response.content == "❌ Not quite. 1 attempt left."
    second = await member.click(post, custom_id=answer_id(post, key))
    assert "✅ **Correct!**" in second.response.content
    third = await member.click(post, custom_id=answer_id(post, key))
    assert "already solved" in third.response.content


async def test_a_third_click_after_two_wrong_answers_is_refused_politely(env, room):
    post = await start(room)
    key = await key_of(env, post)
    member = room.members[0]
    others = [c for c in "ABCD" if c != key]
    await member.click(post, custom_id=answer_id(post, others[0]))
    last = await member.click(post, custom_id=answer_id(post, others[1]))
    assert "last attempt" in last.response.content
    refused = await member.click(post, custom_id=answer_id(post, key))
    assert refused.ephemeral and "used all 2 attempts" in refused.response.content


async def test_a_click_after_the_deadline_changes_nothing(env, room, config):
    post = await start(room)
    key = await key_of(env, post)
    challenge = await env.bot.tutor.challenges.get(challenge_id(post))
    # Answer in the very last moment the timer has not yet fired: the rules still refuse.
    await env.advance_time(challenge.deadline - env.now().timestamp() - 0.5)
    env.bot.tutor.poster.timers.disarm(challenge.id)  # as if the reveal were delayed
    await env.advance_time(1)
    late = await room.members[0].click(post, custom_id=answer_id(post, key))
    assert late.ephemeral and "closed" in late.response.content
    assert points_in_db(config.database_path, room.guild.id) == {}
    await env.bot.tutor.poster.reveal(challenge.id)


async def test_the_answered_count_is_edited_a_few_seconds_later_not_per_click(env, room):
    post = await start(room)
    for member in room.members:
        await member.click(post, custom_id=answer_id(post, "A"))
    assert room.post().embeds[0].footer.text == "0 answered"
    edits_before = sum(1 for r in env.http_requests if r.method == "PATCH")
    await env.advance_time(6)
    assert room.post().embeds[0].footer.text == "3 answered"
    assert sum(1 for r in env.http_requests if r.method == "PATCH") == edits_before + 1


async def test_the_reveal_at_the_deadline_shows_key_spread_and_explanation(env, room):
    post = await start(room, pack="pretrained-models")  # every problem there has an experiment
    key = await key_of(env, post)
    picks = [key, key, wrong(key)]
    for member, pick in zip(room.members, picks, strict=True):
        await member.click(post, custom_id=answer_id(post, pick))
    await env.advance_time(121)
    revealed = room.post()
    answer_and_hint = [b for b in buttons(revealed) if not b.custom_id.startswith("tutor:why")]
    assert len(answer_and_hint) == 5 and all(b.disabled for b in answer_and_hint)
    assert buttons(revealed)[-1].label == "Why? (run it)"
    styles = {b.label: b.style.name for b in buttons(revealed)}
    assert styles[key] == "success"
    reveal = revealed.embeds[1]
    assert reveal.title == "Answer revealed" and f"**{key}.**" in reveal.description
    spread = reveal.fields[0].value
    assert re.search(rf"`{key}` `█+░*`\s+67% \(2\) ✅", spread)
    assert re.search(rf"`{wrong(key)}` `█+░*`\s+33% \(1\)", spread)
    assert "First correct" in reveal.fields[1].name
    assert "Why not the others" in reveal.description


async def test_the_starter_can_stop_early_and_others_cannot(env, room):
    post = await start(room)
    refused = await room.members[0].slash(room.channel, "challenge-stop")
    assert refused.ephemeral and "only the member who started" in refused.response.content
    stopped = await room.admin.slash(room.channel, "challenge-stop")
    assert "Stopping" in stopped.response.content
    assert room.post().embeds[1].title == "Answer revealed"
    assert challenge_id(room.post()) == challenge_id(post)


async def test_one_open_challenge_per_channel_and_the_refusal_says_when_it_ends(env, room):
    await start(room)
    refused = await room.members[0].slash(room.channel, "challenge")
    assert "already running here" in refused.response.content
    assert re.search(r"ends <t:\d+:R>", refused.response.content)


async def test_a_group_meets_every_problem_before_one_comes_back(env, room):
    seen = []
    for _ in range(6):
        await start(room, pack="pretrained-models")
        seen.append((await env.bot.tutor.challenges.get(challenge_id(room.post()))).problem_id)
        await room.admin.slash(room.channel, "challenge-stop")
    assert len(set(seen[:5])) == 5
    assert seen[5] == seen[0]  # then the one seen longest ago
