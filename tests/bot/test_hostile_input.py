"""Whatever a member types into an option, the bot answers politely and within Discord's limits."""

from __future__ import annotations

import pytest
import simcord
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.errors import UnknownPack
from bot.ui.replies import error_reply
from tests.bot.limits import message_problems, over_discord_limits

MARKUP = ["@everyone", "@here", "<@1>", "<@&1>", "<#1>", "**bold**", "```py", "||spoiler||",
          "# heading", "> quote", "[link](https://example.com)", "\u202eevil", "\x00", "\r\n",
          "PRETRAINED-MODELS", "Pretrained-Models", " pretrained-models "]
hostile_text = st.one_of(
    st.text(max_size=120),  # any code points, control characters included
    st.builds(lambda piece, n: piece * n, st.sampled_from(["x", "é", "🧠", "@", "`", "\n", "*"]),
              st.sampled_from([0, 1, 99, 100, 101, 2000, 2001, 6000])),
    st.lists(st.sampled_from(MARKUP), max_size=8).map("".join),
)
SLASH_OPTIONS = [("challenge", "pack"), ("challenge", "difficulty"), ("challenge", "kind"),
                 ("leaderboard", "pack"), ("leaderboard", "period"), ("explain", "problem"),
                 ("schedule add", "time"), ("schedule add", "days"), ("schedule add", "timezone"),
                 ("schedule add", "pack"), ("tutor config", "timezone"),
                 ("tutor weekly-post", "time"), ("tutor badge-role", "badge"),
                 ("practice", "pack"), ("practice", "kind"), ("badge-run", "pack"),
                 ("stats problem", "id"), ("stats pack", "id"), ("tutor packs", "pack")]
AUTOCOMPLETES = [("challenge", "pack"), ("leaderboard", "pack"), ("explain", "problem"),
                 ("schedule add", "days"), ("schedule add", "timezone"), ("schedule add", "pack"),
                 ("tutor config", "timezone"), ("tutor badge-role", "badge"),
                 ("practice", "pack"), ("badge-run", "pack"), ("stats problem", "id"),
                 ("stats pack", "id"), ("tutor packs", "pack")]
# Options a command cannot go without, given alongside the hostile one.
REQUIRED = {"schedule add": lambda room: {"channel": room.channel},
            "tutor weekly-post": lambda room: {"channel": room.channel}}


@pytest.fixture
def tree_errors(env) -> list[Exception]:
    """Every error that reaches the command tree's one error handler."""
    seen: list[Exception] = []
    original = env.bot.tree.on_error

    async def spy(interaction, error):
        seen.append(error)
        await original(interaction, error)
    env.bot.tree.on_error = spy
    return seen


async def test_a_pack_name_of_two_thousand_characters_is_refused_by_the_option_itself(env, room):
    with pytest.raises(simcord.OptionError, match="at most 100 characters"):
        await room.admin.slash(room.channel, "challenge", pack="p" * 2000)


async def test_an_unknown_pack_is_echoed_briefly_and_in_the_members_own_case(env, room):
    result = await room.admin.slash(room.channel, "challenge", pack="PRETRAINED-MODELS" + "x" * 80)
    text = result.response.content
    assert result.ephemeral and "no pack called “PRETRAINED-MODELS" in text
    assert len(text) < 300 and "…" in text


async def test_the_leaderboard_says_so_when_the_pack_is_unknown(env, room):
    result = await room.members[0].slash(room.channel, "leaderboard", pack="Nope")
    assert result.ephemeral and "no pack called “Nope”" in result.response.content


def test_every_echo_stays_short_whatever_was_typed():
    for typed in ["x" * 6000, "\n" * 6000, "@everyone " * 600, "🧠" * 3000]:
        assert len(error_reply(UnknownPack(typed))) < 300


@settings(max_examples=120, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(command=st.sampled_from(SLASH_OPTIONS), value=hostile_text)
async def test_any_option_value_gets_a_polite_answer_within_limits(env, room, tree_errors,
                                                                   command, value):
    name, option = command
    before = len(env.http_requests)
    try:
        extra = REQUIRED.get(name, lambda room: {})(room)
        result = await room.admin.slash(room.channel, name, **extra, **{option: value})
    except simcord.OptionError:
        return  # Discord itself refuses it (too long, not one of the choices): never reaches us
    assert result.acknowledged, f"/{name} {option}={value!r} got no answer"
    assert tree_errors == [], f"/{name} {option}={value!r} reached the error handler"
    new = env.http_requests[before:]
    assert all(not message_problems(e.json.get("data") or {}) for e in new
               if e.path.startswith("/interactions/") and isinstance(e.json, dict))
    assert over_discord_limits(env) == []


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(command=st.sampled_from(AUTOCOMPLETES), value=hostile_text)
async def test_any_typed_text_gets_at_most_25_short_suggestions(env, room, tree_errors, command,
                                                                value):
    name, option = command
    try:
        choices = await room.admin.autocomplete(room.channel, name, option, value)
    except simcord.OptionError:
        return
    assert len(choices) <= 25
    assert all(0 < len(c["name"]) <= 100 and len(c["value"]) <= 100 for c in choices)
    assert tree_errors == []
