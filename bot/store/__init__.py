"""The store: SQLite (the default) or PostgreSQL, through one connection on its own thread.
All SQL of the project lives here."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from bot.store.answers import AnswerRecorder, AnswerRules, AttemptObserver
from bot.store.challenges import ChallengeRepo
from bot.store.db import Database, open_database
from bot.store.explanations import ExplanationCache, ExplanationJobs
from bot.store.export import ExportRepo
from bot.store.insight import ItemStatsRepo
from bot.store.leaderboard import ALL_PACKS, LeaderboardRepo, ProfileRepo
from bot.store.review import ReviewRepo, ReviewRules
from bot.store.runs import RunRepo
from bot.store.schedules import BadgeRoleRepo, FireRecord, ScheduleRepo
from bot.store.settings import SettingsRepo
from bot.store.weekly import WeeklyRepo


class StoreRules(AnswerRules, ReviewRules, Protocol):
    """Every core rule the store applies inside its transactions."""


class Store:
    """The repositories over one database; open() and close() bracket the bot's life."""

    def __init__(self, db: Database, rules: StoreRules) -> None:
        self.db = db
        # What learns from every stored attempt, in its transaction; repositories below
        # that keep figures per attempt add themselves.
        self.attempt_observers: list[AttemptObserver] = []
        self.challenges = ChallengeRepo(db)
        self.answers = AnswerRecorder(db, rules, self.attempt_observers)
        self.leaderboard = LeaderboardRepo(db)
        self.profiles = ProfileRepo(db)
        self.settings = SettingsRepo(db)
        self.explanations = ExplanationCache(db)
        self.explanation_jobs = ExplanationJobs(db)  # the queue's single flight and deadline
        self.schedules = ScheduleRepo(db)
        self.fires = FireRecord(db)
        self.badge_roles = BadgeRoleRepo(db)
        self.weekly = WeeklyRepo(db)
        self.exports = ExportRepo(db)
        self.runs = RunRepo(db, self.attempt_observers)
        self.reviews = ReviewRepo(db, rules)
        self.attempt_observers.append(self.reviews)
        self.insight = ItemStatsRepo(db)  # item analysis for /stats problem and pack
        self.attempt_observers.append(self.insight)

    @classmethod
    async def open(cls, where: Path | str, rules: StoreRules, synchronous: str = "FULL") -> Store:
        """A SQLite file's path, or a postgresql:// URL."""
        return cls(await open_database(where, synchronous), rules)

    async def close(self) -> None:
        await self.answers.close()
        await self.db.close()


__all__ = ["ALL_PACKS", "AnswerRules", "AttemptObserver", "Database", "Store", "StoreRules"]
