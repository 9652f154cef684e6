"""Leaderboard, profile, badges and settings, after a played pack."""

import discord

from tests.bot.helpers import answer_id, key_of


async def play_whole_pack(env, room, member):
    problems = len(env.bot.bank.packs["pretrained-models"].problems)
    earned = []
    seen = set()
    while len(seen) < problems:
        await room.admin.slash(room.channel, "challenge", pack="pretrained-models")
        post = room.post()
        challenge = await env.bot.tutor.challenges.get(int(post.components[0].children[0]
                                                  .custom_id.split(":")[2]))
        first = challenge.problem_id not in seen
        seen.add(challenge.problem_id)
        result = await member.click(post, custom_id=answer_id(post, await key_of(env, post)))
        if first:
            earned.append(result.response.content)
        await room.admin.slash(room.channel, "challenge-stop")
    return earned


async def test_the_pack_badge_comes_once_and_shows_everywhere(env, room):
    member = room.members[0]
    replies = await play_whole_pack(env, room, member)
    assert sum("Pre-trained Model Master" in r for r in replies) == 1
    assert "Pre-trained Model Master" in replies[-1]
    again = await play_whole_pack(env, room, member)  # a second round awards nothing new
    assert not any("Pre-trained Model Master" in r for r in again)

    badges = await member.slash(room.channel, "badges")
    assert badges.ephemeral and "✅ 🎖️ **Pre-trained Model Master**" in \
        badges.response.embeds[0].description

    profile = (await member.slash(room.channel, "profile")).response.embeds[0]
    fields = {f.name: f.value for f in profile.fields}
    assert fields["Accuracy"].startswith("100%")
    assert "Pre-trained Model Master" in next(v for k, v in fields.items()
                                              if k.startswith("Badges"))
    assert "5/5" in fields["Packs solved"]


async def test_leaderboard_lists_members_by_points_with_my_rank(env, room):
    await play_whole_pack(env, room, room.members[0])
    await room.admin.slash(room.channel, "challenge")
    post = room.post()
    await room.members[1].click(post, custom_id=answer_id(post, await key_of(env, post)))
    board = await room.members[1].slash(room.channel, "leaderboard", period="all")
    embed = board.response.embeds[0]
    lines = embed.description.splitlines()
    assert lines[0].startswith(f"🥇 <@{room.members[0].id}>")
    assert lines[1].startswith(f"🥈 <@{room.members[1].id}>")
    assert embed.fields[0].value.startswith("#2 with")


async def test_leaderboard_pages_with_buttons(env, room):
    students = [room.guild.add_member(env.create_user(f"p{i}")) for i in range(12)]
    await room.admin.slash(room.channel, "challenge")
    post = room.post()
    key = await key_of(env, post)
    for student in students:
        await student.click(post, custom_id=answer_id(post, key))
    board = await room.members[0].slash(room.channel, "leaderboard", period="today")
    assert board.response.embeds[0].footer.text.startswith("Page 1/2 · 12 members")
    page2 = await room.members[0].click(board.response.message, label="Next ▶")
    assert page2.response.embeds[0].footer.text.startswith("Page 2/2")
    assert len(page2.response.embeds[0].description.splitlines()) == 2


async def test_config_is_refused_without_manage_server(env, room):
    member = room.members[0]
    # Discord hides the command from members without Manage Server; a server can still
    # open it to everyone, and then the bot's own check must refuse.
    synced = await env.bot.tree.fetch_commands()
    room.guild.set_command_permissions(next(c for c in synced if c.name == "tutor"),
                                       {room.guild.default_role: True})
    refused = await member.slash(room.channel, "tutor config", hint_cost=0)
    assert refused.ephemeral and "Manage Server" in refused.response.content
    assert env.errors  # the refusal went through the one error handler, which logged it
    assert (await env.bot.tutor.settings.of(room.guild.id)).hint_cost_percent == 25


async def test_an_admin_changes_settings_and_they_apply(env, room):
    saved = await room.admin.slash(room.channel, "tutor config", scoring="learning",
                                   hint_cost=50, time_limit=60)
    assert saved.ephemeral and saved.response.content == "✅ Saved."
    settings = await env.bot.tutor.settings.of(room.guild.id)
    assert (settings.scoring_mode, settings.hint_cost_percent, settings.time_limit) == \
        ("learning", 50, 60)
    await room.admin.slash(room.channel, "challenge")
    challenge = await env.bot.tutor.challenges.get(int(room.post().components[0].children[0]
                                              .custom_id.split(":")[2]))
    assert challenge.time_limit == 60 and challenge.scoring_mode == "learning"


async def test_the_member_is_told_which_permission_the_bot_lacks(env, room):
    locked = room.guild.create_text_channel(
        "locked", overwrites={room.guild.me: discord.PermissionOverwrite(send_messages=False)})
    refused = await room.members[0].slash(locked, "challenge")
    assert refused.ephemeral and "**Send Messages**" in refused.response.content
