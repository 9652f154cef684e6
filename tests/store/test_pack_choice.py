"""Servers choose their packs: challenges, schedules and practice on any pack draw only from
the packs that are on."""

from __future__ import annotations

import random

import pytest

from bot.core.errors import LastPack, PackDisabled, UnknownPack
from bot.core.schedules import ScheduleService
from bot.core.settings import SettingsService
from bot.core.study import StudyService
from tests.store.conftest import GUILD


@pytest.fixture
def settings_service(store):
    return SettingsService(store)


async def test_a_pack_turned_off_is_never_drawn(service, settings_service, bank):
    await settings_service.set_pack_enabled(GUILD, "other", False, bank.packs)
    drawn = {(await service.choose_problem(GUILD)).pack_id for _ in range(30)}
    assert drawn == {"pack"}
    with pytest.raises(PackDisabled):
        await service.choose_problem(GUILD, pack="other")
    assert {(await service.choose_problem(GUILD + 1)).pack_id for _ in range(30)} == {
        "pack", "other"}  # another server has both on
    await settings_service.set_pack_enabled(GUILD, "other", True, bank.packs)
    assert (await service.choose_problem(GUILD, pack="other")).pack_id == "other"


async def test_the_last_pack_stays_on_and_unknown_packs_are_refused(settings_service, bank):
    await settings_service.set_pack_enabled(GUILD, "other", False, bank.packs)
    with pytest.raises(LastPack):
        await settings_service.set_pack_enabled(GUILD, "pack", False, bank.packs)
    with pytest.raises(UnknownPack):
        await settings_service.set_pack_enabled(GUILD, "nope", False, bank.packs)
    assert await settings_service.disabled_packs(GUILD) == {"other"}


async def test_a_schedule_for_a_pack_that_is_off_is_refused(store, bank, settings_service):
    await settings_service.set_pack_enabled(GUILD, "other", False, bank.packs)
    schedules = ScheduleService(store, bank, lambda: 1_000_000.0)
    with pytest.raises(PackDisabled):
        await schedules.add(guild_id=GUILD, channel_id=1, time_text="09:00", days_text=None,
                            timezone="UTC", pack="other", difficulty=None, kind=None,
                            ping_role_id=None, created_by=2)
    assert await schedules.of_guild(GUILD) == []


async def test_practice_on_any_pack_keeps_to_the_packs_that_are_on(store, bank,
                                                                  settings_service):
    await settings_service.set_pack_enabled(GUILD, "other", False, bank.packs)
    study = StudyService(store, bank, lambda: 1_000_000.0, random.Random(2))
    run = await study.start_practice(GUILD, 7, pack=None, kind=None)
    drawn = [run.current]
    for n in range(6):
        await study.answer(run.id, 7, run.position, "B", f"s{n}", None)
        run = await study.show_next(run.id, 7, run.position + 1)
        drawn.append(run.current)
    assert {p.split("-")[0] for p in drawn} == {"pack"}
    named = await study.start_practice(GUILD, 7, pack="other", kind=None)  # a member's choice
    assert named.current.startswith("other-")


async def test_what_the_server_has_seen_per_pack(service, open_challenge, store):
    await open_challenge("pack-0")
    await open_challenge("pack-0", now=1_000_100.0)
    await open_challenge("pack-3", now=1_000_200.0)
    await open_challenge("other-1", now=1_000_300.0)
    assert await store.challenges.seen_per_pack(GUILD) == {"pack": 2, "other": 1}
