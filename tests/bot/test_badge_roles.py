"""Badge roles: an admin links a badge to a role; a member who earns the badge gets the role."""

from __future__ import annotations

import logging

import discord
import pytest

from tests.bot.helpers import answer_id, key_of

BADGE = "first-correct"  # earned by a member's first correct answer
ROLE_GRANTS = "/guilds/*/members/*/roles/*"


@pytest.fixture
def lead(room):
    """An admin who may hand out roles: Discord's own rule for linking one to a badge.
    Created before the badge roles below, so it sits above them (new roles go in at the
    bottom)."""
    leads = room.guild.create_role("Leads", permissions=discord.Permissions(
        manage_guild=True, manage_roles=True))
    return room.guild.add_member(room.env.create_user("lin"), roles=[leads])


@pytest.fixture
def steppers(room, lead):
    return room.guild.create_role("First Steppers")


async def link(room, admin, role=None, badge=BADGE):
    options = {"badge": badge} if role is None else {"badge": badge, "role": role}
    result = await admin.slash(room.channel, "tutor badge-role", **options)
    assert result.ephemeral
    return result.response.content


async def answer_right(env, room, member):
    """Posts a challenge and has `member` answer it correctly; returns their reply."""
    await room.admin.slash(room.channel, "challenge")
    post = room.post()
    result = await member.click(post, custom_id=answer_id(post, await key_of(env, post)))
    await env.settle()  # the role is granted in the background, after the reply
    return result.response.content


def grants(env) -> list:
    return [e for e in env.http_requests if e.method == "PUT" and "/roles/" in e.path]


def roles_of(env, room, member) -> list[int]:
    return env.backend.get_member(room.guild.id, member.id).role_ids


def bot_role(room) -> int:
    return room.guild.me.top_role.id


async def badges_in_db(env, room, member) -> set[str]:
    return {badge for badge, _ in (await env.bot.tutor.progress.profile(room.guild.id,
                                                                         member.id)).badges}


async def test_a_member_who_earns_the_badge_gets_its_role(env, room, lead, steppers):
    saved = await link(room, lead, steppers)
    assert saved == f"🏅 Saved: members who earn 👣 **First Step** from now on get " \
                    f"{steppers.mention}."
    member = room.members[0]
    reply = await answer_right(env, room, member)
    assert "🏅 New badge! 👣 **First Step**" in reply
    assert steppers.id in roles_of(env, room, member)
    [grant] = grants(env)
    assert grant.path == f"/guilds/{room.guild.id}/members/{member.id}/roles/{steppers.id}"
    assert grant.reason == f"badge {BADGE}"


async def test_the_grant_follows_the_reply_through_the_paced_sender(env, room, lead, steppers):
    await link(room, lead, steppers)
    await room.admin.slash(room.channel, "challenge")
    post, sent = room.post(), env.bot.tutor.pacer.sent
    await room.members[0].click(post, custom_id=answer_id(post, await key_of(env, post)))
    await env.settle()
    assert env.bot.tutor.pacer.sent == sent + 1
    paths = [e.path for e in env.http_requests]
    reply = max(i for i, p in enumerate(paths) if p.startswith("/interactions/"))
    assert paths.index(grants(env)[0].path) > reply


async def test_a_member_who_already_has_the_role_is_not_granted_it_again(env, room, lead,
                                                                         steppers):
    await link(room, lead, steppers)
    member = room.guild.add_member(env.create_user("early"), roles=[steppers])
    await answer_right(env, room, member)
    assert grants(env) == []


async def test_without_a_role_the_badge_is_unlinked(env, room, lead, steppers):
    await link(room, lead, steppers)
    assert await link(room, lead) == "🏅 👣 **First Step** no longer brings a role."
    assert await env.bot.tutor.badge_roles.roles_for(room.guild.id, [BADGE]) == []
    await answer_right(env, room, room.members[0])
    assert grants(env) == []


async def test_the_admin_is_told_when_the_bot_lacks_manage_roles(env, room, lead, steppers):
    without = discord.Permissions.all()
    without.update(administrator=False, manage_roles=False)
    env.backend.edit_role(room.guild.id, bot_role(room), {"permissions": without.value})
    await env.settle()
    reply = await link(room, lead, steppers)
    assert reply.startswith("🏅 Saved:")  # saved: grants start once the permission is given
    assert "⚠️ But Discord will refuse me until this is fixed:\n" \
           "• I don't have the **Manage Roles** permission." in reply
    assert await env.bot.tutor.badge_roles.roles_for(room.guild.id, [BADGE]) == \
        [(BADGE, steppers.id)]


async def test_the_admin_is_told_when_the_role_sits_above_the_bots(env, room):
    owners = room.guild.create_role("Owners", permissions=discord.Permissions(
        manage_guild=True, manage_roles=True), position=60)
    elders = room.guild.create_role("Elders", position=50)
    admin = room.guild.add_member(env.create_user("olga"), roles=[owners])
    reply = await link(room, admin, elders)
    assert f"• {elders.mention} is not below my highest role <@&{bot_role(room)}>: drag my " \
           "role above it in Server Settings → Roles." in reply
    assert "Manage Roles" not in reply


@pytest.mark.parametrize("which", ["@everyone", "the bot's own role"])
async def test_everyone_and_integration_roles_are_refused(env, room, lead, which):
    role = room.guild.default_role if which == "@everyone" else \
        next(r for r in room.guild.roles.values() if r.id == bot_role(room))
    reply = await link(room, lead, role)
    assert reply.startswith("🚫") and reply.endswith("Nothing was saved.")
    assert await env.bot.tutor.badge_roles.roles_for(room.guild.id, [BADGE]) == []


async def test_an_admin_who_cant_hand_out_the_role_cannot_link_it(env, room, steppers):
    # room.admin has Manage Server only: linking would let them give themselves any role.
    reply = await link(room, room.admin, steppers)
    assert "You can't give" in reply and "Nothing was saved." in reply
    assert await env.bot.tutor.badge_roles.roles_for(room.guild.id, [BADGE]) == []


async def test_a_member_without_manage_server_cannot_link(env, room, steppers):
    # Discord hides /tutor from them; a server can still open it to everyone.
    synced = await env.bot.tree.fetch_commands()
    room.guild.set_command_permissions(next(c for c in synced if c.name == "tutor"),
                                       {room.guild.default_role: True})
    refused = await room.members[0].slash(room.channel, "tutor badge-role", badge=BADGE,
                                          role=steppers)
    assert refused.ephemeral and "Manage Server" in refused.response.content
    assert env.errors  # the refusal went through the one error handler, which logged it
    assert await env.bot.tutor.badge_roles.roles_for(room.guild.id, [BADGE]) == []


async def test_an_unknown_badge_is_refused_and_echoed_safely(env, room, lead, steppers):
    reply = await link(room, lead, steppers, badge="@everyone no-such")
    assert reply.startswith("🏅 There's no badge called “") and "@\u200beveryone" in reply
    assert await env.bot.tutor.badge_roles.roles_for(room.guild.id, [BADGE]) == []


async def test_badge_autocomplete_suggests_from_the_catalogue(env, room, lead):
    choices = await lead.autocomplete(room.channel, "tutor badge-role", "badge", "streak")
    assert [c["value"] for c in choices] == ["streak-3", "streak-5", "streak-10"]
    every = await lead.autocomplete(room.channel, "tutor badge-role", "badge", "")
    assert any(c["value"].startswith("pack:") for c in every) and len(every) <= 25


async def test_a_failed_grant_is_logged_with_ids_and_the_badge_stays(env, room, lead, steppers,
                                                                     caplog):
    caplog.set_level(logging.INFO, logger="bot.ui.roles")
    await link(room, lead, steppers)
    env.inject_error("PUT", ROLE_GRANTS, status=403, code=50013, message="Missing Permissions")
    member = room.members[0]
    reply = await answer_right(env, room, member)
    assert reply.startswith("✅ **Correct!**") and "🏅 New badge! 👣 **First Step**" in reply
    assert BADGE in await badges_in_db(env, room, member)
    assert steppers.id not in roles_of(env, room, member)
    assert f"badge role not granted: guild={room.guild.id} member={member.id} " \
           f"role={steppers.id} badge={BADGE}: HTTP 403 (code 50013)" in caplog.text


async def test_a_grant_refused_for_missing_manage_roles_is_logged(env, room, lead, steppers,
                                                                  caplog):
    await link(room, lead, steppers)
    without = discord.Permissions.all()
    without.update(administrator=False, manage_roles=False)
    env.backend.edit_role(room.guild.id, bot_role(room), {"permissions": without.value})
    member = room.members[0]
    reply = await answer_right(env, room, member)
    assert "🏅 New badge!" in reply
    assert BADGE in await badges_in_db(env, room, member)
    assert steppers.id not in roles_of(env, room, member)
    assert f"member={member.id} role={steppers.id} badge={BADGE}: HTTP 403" in caplog.text
