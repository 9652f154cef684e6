"""Every stored attempt reaches the store's observers inside its own transaction, and keeps
the member's name as it was when they answered."""

import sqlite3

import pytest

from bot.store.records import AttemptFact
from tests.store.conftest import GUILD


class Recorder:
    def __init__(self, fail_on: str | None = None) -> None:
        self.facts: list[AttemptFact] = []
        self.fail_on = fail_on

    def on_attempt(self, conn: sqlite3.Connection, fact: AttemptFact) -> None:
        if fact.choice == self.fail_on:
            raise RuntimeError("observer failed")
        self.facts.append(fact)


async def test_observers_see_each_attempt_with_its_outcome(service, open_challenge, store):
    seen = Recorder()
    store.attempt_observers.append(seen)
    ch = await open_challenge()
    await service.answer(ch.id, 7, "A", ch.opened_at + 3, "i-1", "Ada")
    await service.answer(ch.id, 7, "B", ch.opened_at + 5, "i-2", "Ada L.")
    await service.answer(ch.id, 7, "B", ch.opened_at + 6, "i-2", "Ada L.")  # a replay: no fact
    wrong, right = seen.facts
    assert (wrong.guild_id, wrong.member_id, wrong.mode, wrong.problem_id) == (
        GUILD, 7, "challenge", ch.problem_id)
    assert (wrong.correct, wrong.final, wrong.attempt_no) == (False, False, 1)
    assert (right.correct, right.final, right.attempt_no) == (True, True, 2)
    assert right.elapsed == pytest.approx(5) and right.time_limit == ch.time_limit
    names = await store.db.fetchall("SELECT display_name FROM attempts ORDER BY attempt_no")
    assert [r[0] for r in names] == ["Ada", "Ada L."]


async def test_an_observer_that_fails_takes_the_attempt_back_with_it(service, open_challenge,
                                                                     store):
    store.attempt_observers.append(Recorder(fail_on="A"))
    ch = await open_challenge()
    with pytest.raises(RuntimeError):
        await service.answer(ch.id, 7, "A", ch.opened_at + 1, "i-1")
    assert await store.db.fetchall("SELECT * FROM attempts") == []
