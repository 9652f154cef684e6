"""PostgreSQL records a batch of answers in a few set-based statements (bot/store/answer_batch.py),
SQLite answer by answer: the same batch through both must tell every caller the same and leave
every table with the same rows. And when another transaction changes what the batch read, the
batch is redone answer by answer, so the outcome stays what the per-answer path gives."""

from __future__ import annotations

import asyncio
import json
import random
from datetime import datetime
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from bot.core.review import new_card
from bot.core.rules import CoreRules
from bot.core.service import ChallengeService
from bot.core.settings import SettingsService
from bot.store import Store
from bot.store.records import AttemptFact, GuildSettings, Submission

NEW_YORK, TOKYO = 10, 11  # two servers, in zones whose local days differ at T
# 23:30 on the 10th in New York is 12:30 on the 11th in Tokyo: each server's day is its own.
T = datetime(2026, 3, 10, 23, 30, tzinfo=ZoneInfo("America/New_York")).timestamp()
REDONE = "redone one by one"
BOOKKEEPING = {"schema_version", "sqlite_sequence"}


class Server:
    """One store with its service and the challenges the scenario opened in it."""

    def __init__(self, store: Store, bank) -> None:
        self.store = store
        self.service = ChallengeService(store, bank, CoreRules.for_bank(bank))
        self.bank = bank
        self.challenges: dict[str, int] = {}

    async def open(self, name: str, problem_id: str, guild_id: int, at: float) -> None:
        challenge = await self.service.start(
            guild_id=guild_id, channel_id=guild_id * 100, starter_id=1,
            problem=self.bank.problems[problem_id],
            settings=GuildSettings(guild_id, multiple_per_channel=True), now=at)
        self.challenges[name] = challenge.id

    async def answer(self, name: str, member: int, choice: str, at: float, sid: str) -> None:
        await self.service.answer(self.challenges[name], member, choice, at, sid)


@pytest.fixture
async def servers(bank, tmp_path, postgres_url):
    rules = CoreRules.for_bank(bank)
    stores = [await Store.open(tmp_path / "batch.db", rules), await Store.open(postgres_url, rules)]
    yield [Server(store, bank) for store in stores]
    for store in stores:
        await store.close()


async def history(server: Server) -> None:
    """What happened before the batch, answer by answer, the same in both stores."""
    settings = SettingsService(server.store)
    await settings.change(NEW_YORK, timezone="America/New_York")
    await settings.change(TOKYO, timezone="Asia/Tokyo")
    for i in range(1, 5):  # member 13 solves four of the five: the fifth earns the pack
        await server.open(f"past-{i}", f"pack-{i}", NEW_YORK, T - 1000 * i)
        await server.answer(f"past-{i}", 13, "B", T - 1000 * i + 5, f"past-13-{i}")
    await server.open("old", "other-1", NEW_YORK, T - 5000)
    await server.answer("old", 11, "A", T - 4990, "old-11-1")  # member 11's review card
    await server.answer("old", 11, "C", T - 4980, "old-11-2")
    await server.open("main", "pack-0", NEW_YORK, T - 60)
    await server.open("tokyo", "pack-0", TOKYO, T - 60)
    await server.open("late", "other-0", NEW_YORK, T - 200)  # closed at T - 80
    await server.open("review", "other-1", NEW_YORK, T - 60)
    await server.open("again", "other-1", NEW_YORK, T - 60)  # the same card, another asking
    await server.answer("review", 12, "B", T - 50, "prior-12")
    await server.answer("main", 9, "A", T - 40, "prior-9-1")
    await server.answer("main", 9, "C", T - 30, "prior-9-2")  # out of attempts
    await server.service.hint(server.challenges["main"], 8, T - 20)


def mixed_batch(server: Server) -> list[Submission]:
    ids = server.challenges
    clicks = [
        (ids["main"], 7, "A", "b-1"),  # wrong, then right: the second sees the first
        (ids["main"], 7, "B", "b-2"),
        (ids["main"], 7, "A", "b-1"),  # a replay of an answer earlier in this batch
        (ids["review"], 12, "B", "prior-12"),  # a replay of an answer stored before
        (ids["main"], 9, "B", "b-5"),  # a third attempt
        (ids["main"], 8, "B", "b-6"),  # right after the hint
        (ids["tokyo"], 7, "B", "b-7"),  # the same member in the other server
        (ids["late"], 10, "B", "b-8"),  # after the deadline
        (ids["main"], 7, "B", "b-9"),  # already solved
        (999, 7, "B", "b-10"),  # no such challenge
        (ids["main"], 14, "Z", "b-11"),  # no such choice
        (ids["review"], 11, "A", "b-12"),  # reviews member 11's card twice
        (ids["review"], 11, "B", "b-13"),
        (ids["again"], 11, "B", "b-13a"),
        (ids["main"], 13, "B", "b-14"),  # pack mastery and a streak of five
        (ids["main"], 15, "A", "b-15"),  # wrong twice, then a third attempt in the batch
        (ids["main"], 15, "C", "b-16"),
        (ids["main"], 15, "B", "b-17"),
        (ids["tokyo"], 16, "B", "b-18"),
    ]
    return [Submission(ch, member, choice, T + n / 10, sid, f"name-{member}")
            for n, (ch, member, choice, sid) in enumerate(clicks)]


async def one_batch(store: Store, submissions: list[Submission], monkeypatch) -> list:
    """Records the submissions as one batch (one transaction); each caller's outcome."""
    transactions = []
    real = store.db.transaction

    async def counted(fn):
        transactions.append(fn)
        return await real(fn)

    monkeypatch.setattr(store.db, "transaction", counted)
    outcomes = await asyncio.gather(*(store.answers.record(s) for s in submissions),
                                    return_exceptions=True)
    monkeypatch.undo()
    assert len(transactions) == 1
    return [(type(o).__name__, o.args) if isinstance(o, Exception) else o for o in outcomes]


async def tables(store: Store) -> dict[str, list[tuple]]:
    """Every table's rows, each row as sorted (column, value) pairs, rows in sorted order."""
    if store.db.dialect == "sqlite":
        names = [r[0] for r in await store.db.fetchall(
            "SELECT name FROM sqlite_master WHERE type = 'table'")]
    else:
        names = [r[0] for r in await store.db.fetchall(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
    found = {}
    for name in sorted(set(names) - BOOKKEEPING):
        rows = await store.db.fetchall(f"SELECT * FROM {name}")
        # sqlite3.Row iterates over its values: its column names come from keys()
        pairs = (tuple(sorted((k, r[k]) for k in r.keys())) for r in rows)  # noqa: SIM118
        found[name] = sorted(pairs, key=repr)
    return found


async def test_a_mixed_batch_leaves_both_backends_the_same(servers, monkeypatch, caplog):
    sqlite, postgres = servers
    outcomes = []
    for server in servers:
        await history(server)
        outcomes.append(await one_batch(server.store, mixed_batch(server), monkeypatch))
    assert REDONE not in caplog.text  # PostgreSQL took its batch path, not the fallback
    assert outcomes[0] == outcomes[1]
    told = outcomes[1]
    assert [o[0] for o in told if isinstance(o, tuple)] == [
        "NoAttemptsLeft", "ChallengeClosed", "AlreadySolved", "ChallengeMissing",
        "InvalidChoice", "NoAttemptsLeft"]
    assert [n for n, o in enumerate(told) if getattr(o, "replayed", False)] == [2, 3]
    assert told[1].verdict.attempt_no == 2 and told[1].new_badges == ("first-correct",)
    assert {"pack:pack", "streak-5"} <= set(told[14].new_badges)
    assert await tables(sqlite.store) == await tables(postgres.store)


async def test_random_batches_leave_both_backends_the_same(servers, monkeypatch, caplog):
    """Members clicking at random on challenges in both servers, some after a hint, some
    clicks retried, in three batches: told and stored alike on both backends."""
    rng = random.Random(11)
    plan = []
    for round_ in range(3):
        clicks: list[tuple] = []
        for n in range(150):
            at = T + round_ * 5 + n / 100
            if clicks and rng.random() < 0.1:  # a retried interaction: the same click again
                name, member, choice, _, sid = rng.choice(clicks)
            else:
                name, member = rng.choice("abcde"), rng.randrange(30)
                choice, sid = rng.choice("ABCD"), f"r{round_}-{n}"
            clicks.append((name, member, choice, at, sid))
        hints = [(rng.choice("abcde"), rng.randrange(30)) for _ in range(10)]
        plan.append((clicks, hints))
    results = []
    for server in servers:
        await SettingsService(server.store).change(TOKYO, timezone="Asia/Tokyo")
        # b and e ask the same problem in the same server: one card, reviewed by both
        for name, problem in zip("abcde", ["pack-0", "pack-1", "other-2", "pack-3", "pack-1"],
                                 strict=True):
            await server.open(name, problem, TOKYO if name in "ad" else NEW_YORK, T - 100)
        told = []
        for clicks, hints in plan:
            for name, member in hints:
                await server.service.hint(server.challenges[name], member, T)
            batch = [Submission(server.challenges[name], member, choice, at, sid)
                     for name, member, choice, at, sid in clicks]
            told.append(await one_batch(server.store, batch, monkeypatch))
        results.append((told, await tables(server.store)))
    assert REDONE not in caplog.text
    assert results[0] == results[1]
    stored = sum(not isinstance(o, tuple) for o in sum(results[1][0], []))
    assert 150 < stored < 450  # right, wrong and refused clicks all took part


class RacingRules(CoreRules):
    """The core's rules, but the first time one of them (`at`) is applied, another process
    writes first: what the batch read is then out of date before it writes."""

    def __init__(self, bank, url: str, sql: str, at: str = "judge") -> None:
        base = CoreRules.for_bank(bank)
        super().__init__(base.catalogue, base.pack_sizes)
        self.url, self.sql, self.at, self.raced = url, sql, at, False

    def judge(self, challenge, progress, choice, now):
        self._race("judge")
        return super().judge(challenge, progress, choice, now)

    def review_card(self, card, fact):
        self._race("review_card")
        return super().review_card(card, fact)

    def _race(self, rule: str) -> None:
        if self.raced or rule != self.at:
            return
        self.raced = True
        loop = asyncio.new_event_loop()  # the store's thread: no loop of ours runs here
        try:
            loop.run_until_complete(self._other_process())
        finally:
            loop.close()

    async def _other_process(self) -> None:
        conn = await asyncpg.connect(self.url)
        try:
            await conn.execute(self.sql)
        finally:
            await conn.close()


async def raced_store(bank, url: str, sql,
                      at: str = "judge") -> tuple[Store, ChallengeService, int]:
    """A PostgreSQL store whose next answer races sql(challenge id), and a challenge of
    pack-0 for member 7, who has missed pack-0 before (a review card) and then answered
    pack-1 right (a streak of one)."""
    rules = RacingRules(bank, url, "", at)
    rules.raced = True  # not while setting up
    store = await Store.open(url, rules)
    service = ChallengeService(store, bank, rules)
    settings = GuildSettings(NEW_YORK, multiple_per_channel=True)
    opened = [await service.start(guild_id=NEW_YORK, channel_id=1, starter_id=1,
                                  problem=bank.problems[problem], settings=settings,
                                  now=T - 60) for problem in ("pack-0", "pack-1", "pack-0")]
    for n, (challenge, choice) in enumerate([(opened[0], "A"), (opened[0], "C"),
                                             (opened[1], "B")]):
        await service.answer(challenge.id, 7, choice, T - 50 + n, f"before-{n}")
    rules.sql, rules.raced = sql(opened[2].id), False
    return store, service, opened[2].id


async def test_a_member_changed_by_another_process_is_answered_one_by_one(
        bank, postgres_url, caplog):
    store, service, challenge_id = await raced_store(
        bank, postgres_url, lambda _: "UPDATE members SET points = points + 50,"
        f" streak = streak + 1, correct = correct + 1 WHERE guild_id = {NEW_YORK}"
        " AND member_id = 7")
    try:
        before = await store.profiles.get(NEW_YORK, 7)
        result = await service.answer(challenge_id, 7, "B", T, "now")
        after = await store.profiles.get(NEW_YORK, 7)
    finally:
        await store.close()
    assert REDONE in caplog.text
    assert result.total_points == after.points == before.points + 50 + result.verdict.points
    assert result.streak == after.streak == before.streak + 2
    assert "streak-3" in result.new_badges  # judged on the row as the other process left it


async def test_an_attempt_stored_by_another_process_makes_this_one_the_second(
        bank, postgres_url, caplog):
    store, service, challenge_id = await raced_store(
        bank, postgres_url, lambda challenge_id: (
            "INSERT INTO attempts (challenge_id, member_id, attempt_no, choice, correct,"
            f" points, answered_at, submission_id) VALUES ({challenge_id}, 7, 1, 'A', 0, 0,"
            f" {T - 1}, 'elsewhere')"))
    try:
        result = await service.answer(challenge_id, 7, "B", T, "now")
        attempts = await store.db.fetchall(
            "SELECT attempt_no, submission_id FROM attempts WHERE challenge_id = ?"
            " ORDER BY attempt_no", (challenge_id,))
    finally:
        await store.close()
    assert REDONE in caplog.text
    assert result.verdict.attempt_no == 2 and result.verdict.correct
    assert [tuple(r) for r in attempts] == [(1, "elsewhere"), (2, "now")]


async def test_a_card_reviewed_by_another_process_is_reviewed_again_one_by_one(
        bank, postgres_url, caplog):
    raced = new_card(T - 5).to_json()
    store, service, challenge_id = await raced_store(
        bank, postgres_url, lambda _: f"UPDATE review_cards SET card = '{raced}'"
        " WHERE member_id = 7 AND problem_id = 'pack-0'", at="review_card")
    try:
        await service.answer(challenge_id, 7, "B", T, "now")
        card = await store.db.fetchone("SELECT card FROM review_cards WHERE member_id = 7")
    finally:
        await store.close()
    assert REDONE in caplog.text
    assert card is not None and json.loads(card[0])["card_id"] == int((T - 5) * 1000)


async def test_item_tallies_added_a_batch_at_a_time_equal_one_at_a_time(servers):
    """Any order of attempts, even ones no challenge makes (a later attempt first, a hint
    that comes and goes): the set-based tallies equal the per-attempt upserts."""
    rng = random.Random(4)  # among others: a hint-open row that a batch leaves as it was
    batches = [[AttemptFact(
        guild_id=NEW_YORK, member_id=rng.randrange(3), mode=rng.choice(["challenge", "badge_run"]),
        pack_id="pack", problem_id=rng.choice(["pack-0", "pack-1"]),
        attempt_no=rng.choice([1, 1, 2, 3]), choice=rng.choice("ABCD"),
        correct=rng.random() < 0.4, final=True, hint_used=rng.random() < 0.3,
        elapsed=rng.uniform(0, 60), time_limit=120.0, answered_at=T + n)
        for n in range(5)] for _ in range(20)]
    found = []
    for server in servers:
        for facts in batches:
            await tally(server.store, facts)
        every = await tables(server.store)
        found.append({name: rows for name, rows in every.items() if name.startswith("item_")})
    assert found[0] == found[1]
    assert found[1]["item_members"] and found[1]["item_picks"] and found[1]["item_times"]


async def tally(store: Store, facts: list[AttemptFact]) -> None:
    await store.db.transaction(lambda c: store.insight.on_attempts(c, facts))
