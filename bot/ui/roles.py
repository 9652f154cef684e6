"""Badge roles on Discord: checking a role when an admin links it, granting it when earned.

A grant needs no members intent: the member who earned the badge arrives with the click.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import discord
from discord import app_commands

from bot.core.roles import BadgeRoleService, UnknownBadge
from bot.pacing import PacedSender
from bot.tasks import TaskGroup
from bot.ui.replies import quoted

log = logging.getLogger(__name__)


def badge_choices(service: BadgeRoleService, typed: str) -> list[app_commands.Choice[str]]:
    return [app_commands.Choice(name=f"{b.emoji} {b.name} ({b.id})"[:100], value=b.id)
            for b in service.suggestions(typed)]


def role_refusal(role: discord.Role, admin: discord.Member) -> str | None:
    """Why this role can never be a badge role, or why this admin may not link it."""
    if role.is_default():
        return "@everyone can't be a badge role: every member already has it."
    if role.managed:
        return (f"{role.mention} belongs to an integration (a bot or a booster role): "
                "Discord lets no one give it to members.")
    # Linking hands the role out; Discord's own rule for handing out a role applies to the admin.
    if admin.guild.owner_id != admin.id and not (
            admin.guild_permissions.manage_roles and role.position < admin.top_role.position):
        return (f"You can't give {role.mention} to members yourself (that needs **Manage "
                "Roles** and a highest role above it), so you can't link it to a badge.")
    return None


def grant_problems(role: discord.Role, me: discord.Member) -> list[str]:
    """What would make Discord refuse the bot's grant of this role, in the admin's words."""
    problems = []
    if not me.guild_permissions.manage_roles:
        problems.append("I don't have the **Manage Roles** permission.")
    if role.position >= me.top_role.position:
        problems.append(f"{role.mention} is not below my highest role {me.top_role.mention}: "
                        "drag my role above it in Server Settings → Roles.")
    return problems


async def badge_role_reply(service: BadgeRoleService, admin: discord.Member, typed: str,
                           role: discord.Role | None) -> str:
    """Links (or, without a role, unlinks) the badge and says what happened.

    Refused: @everyone, integration roles, and roles the admin can't give out. Saved with a
    warning: a role the bot can't grant yet, since the fix (a permission, a role drag) is the
    admin's to make and grants start working once it is made.
    """
    try:
        badge = service.badge(typed)
    except UnknownBadge as exc:
        return f"🏅 There's no badge called {quoted(exc.typed)}: pick one from the list."
    name = f"{badge.emoji} **{badge.name}**"
    if role is None:
        before = await service.link(admin.guild.id, badge.id, None)
        log.info("guild %d badge %s role unlinked by %d", admin.guild.id, badge.id, admin.id)
        return f"🏅 {name} no longer brings a role." if before else \
            f"🏅 {name} brings no role; nothing to unlink."
    if (refusal := role_refusal(role, admin)) is not None:
        return f"🚫 {refusal} Nothing was saved."
    await service.link(admin.guild.id, badge.id, role.id)
    log.info("guild %d badge %s linked to role %d by %d", admin.guild.id, badge.id, role.id,
             admin.id)
    saved = f"🏅 Saved: members who earn {name} from now on get {role.mention}."
    problems = grant_problems(role, admin.guild.me)
    if not problems:
        return saved
    return "\n".join([f"{saved}\n⚠️ But Discord will refuse me until this is fixed:",
                      *(f"• {p}" for p in problems)])


class BadgeRoleGranter:
    """Gives members the roles their new badges bring, in the background, through the pacer.

    A failed grant is logged with ids and goes no further: the badge is already recorded and
    the member has had their reply.
    """

    def __init__(self, service: BadgeRoleService, pacer: PacedSender) -> None:
        self.service, self.pacer = service, pacer
        self.group = TaskGroup("badge-roles")

    def grant_later(self, member: discord.User | discord.Member,
                    badge_ids: Sequence[str]) -> None:
        if badge_ids and isinstance(member, discord.Member):
            key = (member.guild.id, member.id, tuple(badge_ids))
            self.group.start(key, self.grant(member, badge_ids))

    async def grant(self, member: discord.Member, badge_ids: Sequence[str]) -> None:
        for badge_id, role_id in await self.service.roles_for(member.guild.id, badge_ids):
            if member.get_role(role_id) is None:
                await self.grant_one(member, badge_id, role_id)

    async def grant_one(self, member: discord.Member, badge_id: str, role_id: int) -> None:
        ids = (member.guild.id, member.id, role_id, badge_id)
        if member.guild.get_role(role_id) is None:
            log.warning("badge role not granted: guild=%d member=%d role=%d badge=%s: the role "
                        "no longer exists", *ids)
            return
        role = discord.Object(role_id)
        try:
            await self.pacer.run(lambda: member.add_roles(role, reason=f"badge {badge_id}"),
                                 urgent=True)
        except discord.HTTPException as exc:  # Forbidden and NotFound among them
            log.warning("badge role not granted: guild=%d member=%d role=%d badge=%s: "
                        "HTTP %d (code %d)", *ids, exc.status, exc.code)
            return
        log.info("badge role granted: guild=%d member=%d role=%d badge=%s", *ids)

    async def close(self) -> None:
        await self.group.close()
