"""Property tests of the rules end to end: core and a real SQLite store in a temporary folder."""

import asyncio
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.errors import ChallengeError
from bot.core.rules import CoreRules
from bot.core.service import ChallengeService
from bot.store import Store
from bot.store.records import GuildSettings
from tests.factories import bank as make_bank

BANK = make_bank(problems_per_pack=3)
step = st.tuples(
    st.integers(0, 2),  # which problem's challenge
    st.integers(0, 3),  # which member
    st.sampled_from(["A", "B", "C", "D", "hint"]),
    st.floats(0, 130),  # seconds after the challenge opened
)


async def play(steps, mode: str, hint_cost: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        rules = CoreRules.for_bank(BANK)
        store = await Store.open(Path(folder) / "t.db", rules, synchronous="OFF")
        try:
            service = ChallengeService(store, BANK, rules)
            config = GuildSettings(1, scoring_mode=mode, hint_cost_percent=hint_cost,
                                   multiple_per_channel=True)
            challenges = [await service.start(guild_id=1, channel_id=1, starter_id=0, problem=p,
                                              settings=config, now=0.0)
                          for p in BANK.problems.values()]
            awarded: dict[int, int] = {}
            shown: dict[int, int] = {}
            scored: set[tuple[int, int]] = set()
            badges: list[tuple[int, str]] = []
            for n, (which, member, action, at) in enumerate(steps):
                ch = challenges[which]
                if action == "hint":
                    await service.hint(ch.id, member, at)
                    continue
                try:
                    result = await service.answer(ch.id, member, action, at, f"s{n}")
                except ChallengeError:
                    continue
                assert result.verdict.attempt_no <= ch.attempts_allowed
                if result.verdict.points:
                    assert (ch.id, member) not in scored, "scored twice on one problem"
                    scored.add((ch.id, member))
                awarded[member] = awarded.get(member, 0) + result.verdict.points
                shown[member] = result.total_points
                badges.extend((member, b) for b in result.new_badges)
            assert shown == {m: awarded[m] for m in shown}
            assert len(badges) == len(set(badges)), "a badge was awarded twice"
            for member, total in awarded.items():
                assert (await store.profiles.get(1, member)).points == total
        finally:  # a failed example must not leave the store's thread running
            await store.close()


@settings(max_examples=40, deadline=None)
@given(steps=st.lists(step, max_size=30), mode=st.sampled_from(["speed", "learning"]),
       hint_cost=st.sampled_from([0, 25, 100]))
def test_points_awarded_add_up_to_the_total_shown(steps, mode, hint_cost):
    asyncio.run(play(steps, mode, hint_cost))
