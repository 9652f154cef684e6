"""The bot on every shipped pack: /packs lists them all, and a key without an experiment shows
its sources at the reveal instead of a Why? button."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.bank import load_bank
from tests.bot.helpers import buttons

REPO = Path(__file__).resolve().parents[2]
BANK = load_bank(REPO / "questions")


@pytest.fixture
def questions_path() -> Path:
    return REPO / "questions"


async def test_packs_lists_every_shipped_pack(env, room):
    listed = await room.members[0].slash(room.channel, "packs")
    values = "\n".join(f.value for f in listed.response.embeds[0].fields)
    for pack_id, pack in BANK.packs.items():
        assert f"`{pack_id}` · ✅ on · {len(pack.problems)} problems" in values


def only_sources_problem():
    """A problem without an experiment that pack, kind and difficulty pick out alone."""
    for problem in BANK.problems.values():
        same = [p for p in BANK.packs[problem.pack_id].problems
                if (p.kind, p.difficulty) == (problem.kind, problem.difficulty)]
        if problem.experiment is None and same == [problem]:
            return problem
    raise AssertionError("no sources-only problem is alone in its pack, kind and difficulty")


async def test_a_key_backed_by_sources_reveals_them_and_offers_no_run(env, room):
    problem = only_sources_problem()
    await room.admin.slash(room.channel, "challenge", pack=problem.pack_id, kind=problem.kind,
                           difficulty=problem.difficulty)
    assert problem.title in room.post().embeds[0].title
    await env.advance_time(problem.time_limit + 1)
    revealed = room.post()
    assert "Why? (run it)" not in [b.label for b in buttons(revealed)]
    description = revealed.embeds[1].description
    assert "📚 **Read more**" in description
    assert problem.sources[0].title.replace("[", "(").replace("]", ")") in description
