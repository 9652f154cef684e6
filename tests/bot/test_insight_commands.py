"""/stats problem and /stats pack in simcord: private figures for organisers, refused to
everyone else, and within Discord's embed limits however large the pack."""

from __future__ import annotations

from bot.core.insight import ItemStats, PackStats, hardest_first
from bot.store.insight import ItemTallies
from bot.ui.insight import pack_embed
from tests.bot.helpers import answer_id, key_of, wrong
from tests.bot.limits import message_problems, over_discord_limits
from tests.factories import bank as make_bank

PACK = "pretrained-models"


async def answered_challenge(env, room) -> str:
    """One challenge: two members right at once, one wrong then right. Its problem id."""
    await room.admin.slash(room.channel, "challenge", pack=PACK)
    post = room.post()
    key = await key_of(env, post)
    first, second, third = room.members
    await first.click(post, custom_id=answer_id(post, key))
    await second.click(post, custom_id=answer_id(post, key))
    await third.click(post, custom_id=answer_id(post, wrong(key)))
    await third.click(post, custom_id=answer_id(post, key))
    row = await env.bot.store.db.fetchone("SELECT problem_id FROM challenges")
    return str(row[0])


async def test_an_organiser_sees_a_problems_figures_privately(env, room):
    problem_id = await answered_challenge(env, room)
    result = await room.admin.slash(room.channel, "stats problem", id=problem_id)
    assert result.ephemeral
    embed = result.response.embeds[0]
    fields = {f.name: f.value for f in embed.fields}
    assert fields["Times asked"] == "1 · 3 responses"
    assert fields["Right"] == "first try 67% · in the end 100%"
    assert fields["Discrimination"] == "n/a"  # three responses are too few
    assert "practice and review are left out" in embed.footer.text.lower()


async def test_an_organiser_sees_a_pack_hardest_first(env, room):
    problem_id = await answered_challenge(env, room)
    result = await room.admin.slash(room.channel, "stats pack", id=PACK)
    assert result.ephemeral
    embed = result.response.embeds[0]
    assert len(embed.fields) == len(env.bot.bank.packs[PACK].problems)
    assert f"`{problem_id}` · asked 1 · 3 responses" in embed.fields[0].value
    assert "asked 0" in embed.fields[-1].value  # not asked yet: last
    assert not over_discord_limits(env)


async def test_members_without_manage_server_are_refused(env, room):
    for command, option in (("stats problem", "x"), ("stats pack", PACK)):
        refused = await room.members[0].slash(room.channel, command, id=option)
        assert refused.ephemeral and "Manage Server" in refused.response.content
    assert env.errors  # refusals go through the one error handler, which logs them


async def test_unknown_ids_are_answered_politely(env, room):
    problem = await room.admin.slash(room.channel, "stats problem", id="nope")
    pack = await room.admin.slash(room.channel, "stats pack", id="nope")
    assert problem.ephemeral and "No loaded problem" in problem.response.content
    assert pack.ephemeral and "no pack called" in pack.response.content


async def test_ids_autocomplete_from_the_bank(env, room):
    problems = await room.admin.autocomplete(room.channel, "stats problem", "id", "")
    packs = await room.admin.autocomplete(room.channel, "stats pack", "id", "pretrained")
    assert {c["value"] for c in problems} == {p.id for p in env.bot.bank.packs[PACK].problems}
    assert [c["value"] for c in packs] == [PACK]


def test_a_pack_larger_than_one_message_stays_within_discords_limits():
    big = make_bank(problems_per_pack=40).packs["pack"]
    items = [ItemStats.of(p, ItemTallies(p.id, asked=9, responses=99, first_right=50,
                                         end_right=70, hinted=5, picks={"A": 10, "C": 60}))
             for p in big.problems]
    embed = pack_embed(PackStats(big, tuple(hardest_first(items)))).to_dict()
    assert not message_problems({"embeds": [embed]})
    assert "more: see `/stats problem`" in embed["description"]
