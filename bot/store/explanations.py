"""The cache of explanation runs: one row per key, its figures beside it."""

from __future__ import annotations

import json
from dataclasses import dataclass

from bot.store.db import Conn, Database


@dataclass(frozen=True)
class StoredExplanation:
    cache_key: str
    problem_id: str
    text: str
    metrics: dict[str, object]
    answer: str | None
    device: str
    duration_s: float
    created_at: float
    figures: tuple[tuple[str, bytes], ...] = ()


class ExplanationCache:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, cache_key: str) -> StoredExplanation | None:
        return await self.db.run(lambda c: _get(c, cache_key))

    async def put(self, item: StoredExplanation) -> None:
        await self.db.transaction(lambda c: _put(c, item))


def _get(conn: Conn, cache_key: str) -> StoredExplanation | None:
    row = conn.execute("SELECT * FROM explanations WHERE cache_key = ?", (cache_key,)).fetchone()
    if row is None:
        return None
    figures = tuple((name, png) for name, png in conn.execute(
        "SELECT name, png FROM explanation_figures WHERE cache_key = ? ORDER BY position",
        (cache_key,)))
    return StoredExplanation(row["cache_key"], row["problem_id"], row["text"],
                             json.loads(row["metrics_json"]), row["answer"], row["device"],
                             row["duration_s"], row["created_at"], figures)


def _put(conn: Conn, item: StoredExplanation) -> None:
    conn.execute("DELETE FROM explanations WHERE cache_key = ?", (item.cache_key,))
    conn.execute(
        "INSERT INTO explanations (cache_key, problem_id, text, metrics_json, answer, device,"
        " duration_s, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (item.cache_key, item.problem_id, item.text, json.dumps(item.metrics), item.answer,
         item.device, item.duration_s, item.created_at))
    conn.executemany(
        "INSERT INTO explanation_figures (cache_key, position, name, png) VALUES (?, ?, ?, ?)",
        [(item.cache_key, i, name, png) for i, (name, png) in enumerate(item.figures)])
