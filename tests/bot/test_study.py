"""/practice and /badge-run in simcord: private steps edited in place, a badge earned, a
run resumed after a restart, and group scores left alone."""

from __future__ import annotations

from types import SimpleNamespace

from tests.bot.test_restart import restart

PACK = "pretrained-models"


def buttons(message) -> list:
    """The buttons of a private reply (simcord gives its components as payload dicts)."""
    return [SimpleNamespace(label=c.get("label"), custom_id=c.get("custom_id"))
            for row in message.components for c in row["components"]]


def button(message, label: str):
    return next(b for b in buttons(message) if b.label == label)


def key_for(env, message) -> str:
    """The key of the problem a step message shows, read from the bank by its title."""
    title = message.embeds[0].title
    return next(p.answer for p in env.bot.tutor.bank.problems.values() if p.title == title)


def wrong_for(env, message) -> str:
    return next(letter for letter in "ABCD" if letter != key_for(env, message))


async def answer(member, message, letter: str):
    result = await member.click(message, custom_id=button(message, letter).custom_id)
    return result.response


async def next_step(member, message):
    nxt = next(b for b in buttons(message) if b.custom_id.startswith("tutor:runnext:"))
    return (await member.click(message, custom_id=nxt.custom_id)).response


async def test_a_perfect_badge_run_earns_the_badge_privately(env, room):
    kim = room.members[0]
    started = await kim.slash(room.channel, "badge-run", pack=PACK)
    step = started.response
    assert started.ephemeral
    for n in range(5):
        assert step.embeds[0].author.name.startswith("Badge run")
        fields = {f.name: f.value for f in step.embeds[0].fields}
        assert fields["Problem"] == f"{n + 1} of 5"
        assert fields["Time left"].startswith("<t:")  # a live countdown
        result = await answer(kim, step, key_for(env, step))
        assert result.embeds[0].description.startswith("✅ **Correct!** +")
        step = await next_step(kim, result)
    summary = step.embeds[0]
    assert summary.title == "🏁 Badge run: Why pre-trained models accelerate development in PyTorch"
    fields = {f.name: f.value for f in summary.fields}
    assert fields["Right"] == "5 of 5" and "Pre-trained Model Master" in fields["Perfect run"]
    assert summary.description.count("✅") == 5
    profile = await kim.slash(room.channel, "profile")
    assert "Pre-trained Model Master" in str(profile.response.embeds[0].to_dict())
    board = await kim.slash(room.channel, "leaderboard", period="all")
    assert "No points" in str(board.response.embeds[0].to_dict())  # runs stay off the board


async def test_a_failed_run_shows_what_was_missed(env, room):
    kim = room.members[0]
    step = (await kim.slash(room.channel, "badge-run", pack=PACK)).response
    retry = await answer(kim, step, wrong_for(env, step))
    assert "1 attempt left" in str(retry.embeds[0].to_dict())
    result = await answer(kim, retry, wrong_for(env, retry))
    assert result.embeds[0].description.startswith("❌ **Not this time.**")
    step = await next_step(kim, result)
    stop = button(step, "Stop the run")
    summary = (await kim.click(step, custom_id=stop.custom_id)).response.embeds[0]
    assert "❌" in summary.description and "Abandoned" in str(summary.to_dict())


async def test_a_run_goes_on_after_a_restart(env, room, make_bot):
    kim = room.members[0]
    step = (await kim.slash(room.channel, "badge-run", pack=PACK)).response
    result = await answer(kim, step, key_for(env, step))
    await restart(env, make_bot)
    step = await next_step(kim, result)  # the button from before the restart still works
    assert {f.name: f.value for f in step.embeds[0].fields}["Problem"] == "2 of 5"
    busy = await kim.slash(room.channel, "badge-run", pack=PACK)
    assert "badge run in progress (problem 2 of 5)" in busy.response.content
    resumed = (await kim.click(busy.response,
                               custom_id=button(busy.response, "Resume").custom_id)).response
    assert {f.name: f.value for f in resumed.embeds[0].fields}["Problem"] == "2 of 5"


async def test_practice_is_private_untimed_and_off_the_leaderboard(env, room):
    kim = room.members[0]
    started = await kim.slash(room.channel, "practice", pack=PACK)
    step = started.response
    assert started.ephemeral and "never changes the leaderboard" in step.embeds[0].footer.text
    fields = {f.name for f in step.embeds[0].fields}
    assert "Time left" not in fields and "Problem" not in fields
    hint = await kim.click(step, custom_id=button(step, "Hint").custom_id)
    assert hint.response.content.startswith("💡 **Hint:**") and "lowers" not in \
        hint.response.content
    for _ in range(3):
        step = await answer(kim, step, wrong_for(env, step))
        assert "Try again" in str(step.embeds[0].to_dict())
    result = await answer(kim, step, key_for(env, step))
    assert result.embeds[0].description.startswith("✅ **Correct!**")
    assert "points" not in result.embeds[0].description.split("\n")[0]
    answered = result.embeds[0].title  # read now: the message is edited in place
    step = await next_step(kim, result)
    assert step.embeds[0].title != answered  # another problem
    for table in ("member_points", "members", "attempts"):
        assert await env.bot.store.db.fetchall(f"SELECT * FROM {table}") == [], table


async def test_a_missed_challenge_comes_back_in_review(env, room):
    kim = room.members[0]
    empty = await kim.slash(room.channel, "review")
    assert "Nothing to review yet" in empty.response.content and empty.ephemeral
    await room.admin.slash(room.channel, "challenge", pack=PACK)
    post = room.post()
    missed = post.embeds[0].title
    key = next(p.answer for p in env.bot.tutor.bank.problems.values() if p.title == missed)
    for letter in [x for x in "ABCD" if x != key][:2]:
        await kim.click(post, custom_id=next(
            b.custom_id for row in post.components for b in row.children if b.label == letter))
    soon = await kim.slash(room.channel, "review")  # Again: FSRS brings it back in minutes
    assert soon.response.content.startswith("✅ All caught up! Your next review is due <t:")
    await env.advance_time(10 * 60)
    profile = await kim.slash(room.channel, "profile")
    fields = {f.name: f.value for f in profile.response.embeds[0].fields}
    assert fields["Review"].startswith("1 due now")

    step = (await kim.slash(room.channel, "review")).response
    assert step.embeds[0].title == missed and step.embeds[0].author.name.startswith("Review")
    result = await answer(kim, step, key)
    assert result.embeds[0].description.startswith("✅ **Correct!**")
    summary = (await next_step(kim, result)).embeds[0]
    assert summary.title == "🏁 Review"
    queue = {f.name: f.value for f in summary.fields}["Review queue"]
    assert queue.startswith("Nothing due · next <t:")  # reviewed: due again later
