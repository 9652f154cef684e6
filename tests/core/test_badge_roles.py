"""BadgeRoleService over a real SQLite store: which role each badge brings in a server."""

import pytest

from bot.core.roles import BadgeRoleService, UnknownBadge
from bot.core.rules import CoreRules
from bot.store import Store
from tests.factories import bank as make_bank

GUILD, OTHER = 10, 11


@pytest.fixture
async def service(tmp_path):
    rules = CoreRules.for_bank(make_bank())
    store = await Store.open(tmp_path / "t.db", rules, synchronous="OFF")
    yield BadgeRoleService(store, rules.catalogue)
    await store.close()


def test_a_badge_is_found_by_its_id_or_its_name_in_any_case(service):
    assert service.badge("first-correct").name == "First Step"
    assert service.badge(" first step ").id == "first-correct"
    assert service.badge("PACK:PACK").id == "pack:pack"


@pytest.mark.parametrize("typed", ["", "first", "no-such-badge", "@everyone"])
def test_anything_else_is_an_unknown_badge_that_keeps_what_was_typed(service, typed):
    with pytest.raises(UnknownBadge) as refused:
        service.badge(typed)
    assert refused.value.typed == typed


def test_suggestions_match_id_or_name_and_stop_at_25(service):
    assert [b.id for b in service.suggestions("streak")] == ["streak-3", "streak-5",
                                                             "streak-10"]
    assert [b.id for b in service.suggestions("master")] == ["pack:pack"]
    assert len(service.suggestions("")) <= 25


async def test_roles_come_only_for_linked_badges_of_that_server(service):
    await service.link(GUILD, "first-correct", 100)
    await service.link(GUILD, "streak-3", 200)
    await service.link(OTHER, "quick-draw", 300)
    earned = ["first-correct", "quick-draw", "streak-3"]
    assert await service.roles_for(GUILD, earned) == [("first-correct", 100), ("streak-3", 200)]
    assert await service.roles_for(OTHER, earned) == [("quick-draw", 300)]
    assert await service.roles_for(GUILD, []) == []


async def test_linking_again_replaces_the_role_and_none_unlinks(service):
    assert await service.link(GUILD, "first-correct", 100) is None
    assert await service.link(GUILD, "first-correct", 101) == 100
    assert await service.roles_for(GUILD, ["first-correct"]) == [("first-correct", 101)]
    assert await service.link(GUILD, "first-correct", None) == 101
    assert await service.roles_for(GUILD, ["first-correct"]) == []
