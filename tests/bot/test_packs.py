"""/packs and /tutor packs in simcord; a schedule whose pack was turned off pauses."""

from __future__ import annotations

from tests.bot.test_schedules import at, only_schedule

PACK = "pretrained-models"


async def test_packs_shows_what_is_on_seen_and_solved(env, room):
    await room.admin.slash(room.channel, "challenge", pack=PACK)
    listed = await room.members[0].slash(room.channel, "packs")
    assert listed.ephemeral
    [field] = listed.response.embeds[0].fields
    assert field.name.endswith("Why pre-trained models accelerate development in PyTorch")
    assert field.value.splitlines() == [f"`{PACK}` · ✅ on · 5 problems",
                                        "the server has seen 1/5", "you have solved 0/5"]


async def test_the_last_pack_stays_on_and_unknown_packs_are_refused(env, room):
    # /tutor is shown to Manage Server only (its default permissions): members can't run it.
    last = await room.admin.slash(room.channel, "tutor packs", pack=PACK, enabled=False)
    assert "At least one pack must stay on" in last.response.content
    unknown = await room.admin.slash(room.channel, "tutor packs", pack="nope", enabled=False)
    assert "There's no pack called" in unknown.response.content
    shown = await room.admin.slash(room.channel, "tutor packs")
    assert shown.response.content == "Packs on this server:"
    assert "✅ on" in shown.response.embeds[0].fields[0].value


async def test_a_schedule_whose_pack_was_turned_off_pauses_with_the_reason(env, room):
    await room.admin.slash(room.channel, "schedule add", channel=room.channel, time="00:05",
                           pack=PACK)
    # Straight to the store: /tutor packs keeps the only installed pack on, and the test bot
    # has one pack; on a server with more, turning this one off does the same.
    await env.bot.store.settings.set_pack_enabled(room.guild.id, PACK, False)
    outcome = await env.bot.tutor.rhythm.run_schedule(await only_schedule(env, room),
                                                      at(env, "00:05"))
    assert outcome.code == "paused"
    listed = await room.admin.slash(room.channel, "schedule list")
    assert "turned off on this server" in listed.response.embeds[0].fields[0].value
