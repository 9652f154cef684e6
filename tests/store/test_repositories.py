"""The repositories that other store tests reach only through the core, read and written
directly on both backends: schedules, the fire record, badge roles, settings, profiles and
the challenge reads."""

from __future__ import annotations

import pytest

from bot.store.records import NewSchedule, ScheduleLimitReached
from tests.store.conftest import CHANNEL, GUILD


def new_schedule(guild_id: int = GUILD, **changes) -> NewSchedule:
    fields = {"guild_id": guild_id, "channel_id": CHANNEL, "time_of_day": "09:00",
              "days": "weekdays", "timezone": "UTC", "created_by": 1, "created_at": 100.0}
    return NewSchedule(**(fields | changes))


async def test_schedules_are_added_up_to_the_limit_and_read_back(store):
    first = await store.schedules.add(new_schedule(pack_id="pack"), limit=2)
    second = await store.schedules.add(new_schedule(time_of_day=None, days="0 9 * * 1"),
                                       limit=2)
    with pytest.raises(ScheduleLimitReached):
        await store.schedules.add(new_schedule(), limit=2)
    assert await store.schedules.add(new_schedule(GUILD + 1), limit=2)  # another server
    assert [s.id for s in await store.schedules.of_guild(GUILD)] == [first.id, second.id]
    assert await store.schedules.get(first.id) == first and first.pack_id == "pack"


async def test_a_paused_schedule_is_not_running_and_removing_forgets_its_fires(store):
    kept = await store.schedules.add(new_schedule(), limit=5)
    paused = await store.schedules.add(new_schedule(), limit=5)
    assert await store.schedules.pause(paused.id, "channel gone")
    assert [s.id for s in await store.schedules.running()] == [kept.id]
    assert [s.id for s in await store.schedules.running_among([paused.id, kept.id, 404])] \
        == [kept.id]
    assert await store.schedules.running_among([]) == []
    assert await store.schedules.resume(paused.id)
    await store.schedules.note_outcome(kept.id, 500.0, "posted")
    assert (await store.schedules.get(kept.id)).last_outcome == "posted"
    assert await store.fires.claim(kept.job, 500, 501.0)
    assert await store.schedules.remove(kept.id)
    assert await store.schedules.get(kept.id) is None
    assert not await store.fires.claimed(kept.job, 500)
    assert not await store.schedules.remove(kept.id)


async def test_each_fire_is_claimed_once(store):
    assert await store.fires.claim("weekly:10", 1_000, 1_001.0)
    assert not await store.fires.claim("weekly:10", 1_000, 1_002.0)
    assert await store.fires.claim("weekly:10", 2_000, 2_001.0)
    await store.fires.finish("weekly:10", 2_000, "posted")
    assert await store.fires.claimed("weekly:10", 1_000)
    assert await store.fires.last("weekly:10") == 2_000
    assert await store.fires.last("weekly:11") is None


async def test_badge_roles_are_linked_replaced_and_unlinked(store):
    await store.badge_roles.set(GUILD, "first-correct", 1)
    await store.badge_roles.set(GUILD, "first-correct", 2)
    await store.badge_roles.set(GUILD, "streak-3", 3)
    await store.badge_roles.set(GUILD, "streak-3", None)
    assert await store.badge_roles.of_guild(GUILD) == {"first-correct": 2}


async def test_settings_keep_every_field_through_an_update(store):
    assert not (await store.settings.get(GUILD)).discussion_thread  # the defaults
    updated = await store.settings.update(GUILD, discussion_thread=True, time_limit=90,
                                          weekly_channel_id=5, weekly_day=0,
                                          weekly_time="18:30", timezone="Asia/Tokyo")
    again = await store.settings.get(GUILD)
    assert again == updated and again.discussion_thread is True
    assert [s.guild_id for s in await store.settings.with_weekly_post()] == [GUILD]
    with pytest.raises(ValueError, match="unknown"):
        await store.settings.update(GUILD, colour="red")


async def test_a_profile_gathers_totals_kinds_badges_and_packs(store, service,
                                                               open_challenge):
    challenge = await open_challenge("pack-0")
    await service.hint(challenge.id, 7, challenge.opened_at + 1)
    await service.answer(challenge.id, 7, "B", challenge.opened_at + 2, "s1")
    profile = await store.profiles.get(GUILD, 7)
    assert (profile.answered, profile.correct, profile.attempts, profile.hints) == (1, 1, 1, 1)
    assert profile.points > 0 and profile.streak == profile.best_streak == 1
    assert profile.solved == {"pack": 1} and profile.badges
    assert [k.correct for k in profile.kinds] == [1]
    assert (await store.profiles.get(GUILD, 8)).points == 0


async def test_the_challenge_reads_a_scheduler_and_the_reveal_rely_on(store, open_challenge):
    old = await open_challenge("pack-1", now=1_000.0)
    await store.challenges.close(old.id, 1_100.0)
    live = await open_challenge("pack-2", now=2_000.0)
    again = await open_challenge("pack-1", now=3_000.0)
    assert await store.challenges.recent_problems(GUILD) == ["pack-1", "pack-2"]
    assert await store.challenges.seen_per_pack(GUILD) == {"pack": 2}
    assert await store.challenges.live_problem(GUILD, "pack-2")
    assert await store.challenges.closed_count() == 1
    assert {c.id for c in await store.challenges.open_in_channel(CHANNEL)} == {live.id,
                                                                                again.id}
    assert [c.id for c in await store.challenges.unrevealed()] == [old.id]
    await store.challenges.mark_revealed(old.id, 1_200.0)
    assert await store.challenges.unrevealed() == []


async def test_two_processes_opening_in_one_channel_at_once_open_one(store, database, bank):
    """The schedule leader and the channel's own shard may both start a challenge in one
    channel at the same moment: on separate connections, exactly one opens."""
    import asyncio

    from bot.core.rules import CoreRules
    from bot.store import Store
    from bot.store.records import NewChallenge

    other = await Store.open(database, CoreRules.for_bank(bank))
    new = NewChallenge(guild_id=GUILD, channel_id=CHANNEL, problem_id="pack-0", pack_id="pack",
                       kind="concept", difficulty="intermediate", answer="A", letters="ABCD",
                       attempts_allowed=2, opened_at=1_000.0, deadline=1_060.0,
                       scoring_mode="speed", hint_cost_percent=25)
    try:
        outcomes = await asyncio.gather(*(repo.challenges.open(new, exclusive=True)
                                          for repo in (store, other, store, other)))
    finally:
        await other.close()
    opened = [o for o in outcomes if not isinstance(o, int)]
    assert len(opened) == 1
    assert all(o == opened[0].id for o in outcomes if isinstance(o, int))
