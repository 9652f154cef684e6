"""/export in simcord: an organiser gets the file privately, a member is refused."""

from __future__ import annotations

import csv
import gzip
import io


async def answer_one(env, room):
    await room.members[0].slash(room.channel, "challenge")
    post = room.post()
    await room.members[0].click(post, custom_id=post.components[0].children[1].custom_id)


async def test_an_organiser_gets_the_attempts_as_a_private_gzipped_csv(env, room):
    await answer_one(env, room)

    result = await room.admin.slash(room.channel, "export")

    deferral = next(e for e in env.http_requests if e.path.endswith("/callback"))
    assert deferral.json["type"] == 5  # "thinking" first: a big export takes seconds
    reply = result.response  # the follow-up that replaced "thinking"
    assert result.ephemeral and reply.ephemeral and "1 attempts" in reply.content
    [attachment] = reply.attachments
    assert attachment.filename.startswith(f"tutorbot-{room.guild.id}-all-")
    assert attachment.filename.endswith(".csv.gz")
    rows = list(csv.DictReader(io.StringIO(
        gzip.decompress(await attachment.read()).decode("utf-8"), newline="")))
    assert [(r["member_id"], r["display_name"], r["mode"]) for r in rows] == [
        (str(room.members[0].id), "student0", "challenge")]


async def test_a_member_without_manage_server_is_refused(env, room):
    await answer_one(env, room)

    result = await room.members[1].slash(room.channel, "export", period="week")

    assert result.ephemeral and not result.followups
    assert "Manage Server" in result.response.content
    assert env.errors  # the refusal went through the one error handler, which logged it


async def test_an_empty_period_is_said_in_words(env, room):
    result = await room.admin.slash(room.channel, "export", period="today")

    reply = result.response
    assert reply.ephemeral and not reply.attachments
    assert "no attempts" in reply.content
