"""/export: a server's attempts, every mode, as a gzipped CSV file that fits one Discord
attachment. Knows no Discord.

Memory stays bounded whatever the server's history: attempts are read in chunks, in the
order of the store's indexes (challenges by deadline, then private runs by start; see
bot/store/export.py), each one short unit on the database thread, and each chunk's lines
are compressed into the file off the event loop while the next chunk is read.
"""

from __future__ import annotations

import asyncio
import gzip
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from math import inf
from pathlib import Path
from typing import IO

from bot.bank import Bank
from bot.core.periods import Period
from bot.core.weekly import place
from bot.core.zones import stored_zone
from bot.store import Store
from bot.store.export import COLUMNS, Chunk, Cursor

ATTACHMENT_LIMIT = 10 * 1024 * 1024  # Discord's limit for a bot's upload
SIZE_MARGIN = 256 * 1024  # headroom for the request around the file
MAX_FILE_BYTES = ATTACHMENT_LIMIT - SIZE_MARGIN
CHUNK_ROWS = 3_000  # one database unit: about 30 ms on a 2-core machine
NARROWER = (Period.MONTH, Period.WEEK, Period.TODAY)


@dataclass(frozen=True)
class Export:
    path: Path
    filename: str
    rows: int
    size: int  # bytes, compressed


@dataclass(frozen=True)
class PeriodFit:
    period: Period
    rows: int
    estimated_bytes: int


class ExportTooBig(Exception):
    """Even compressed, the period's attempts exceed one attachment."""

    def __init__(self, period: Period, rows: int, estimated_bytes: int, max_bytes: int,
                 narrower: list[PeriodFit]) -> None:
        super().__init__(f"{rows} attempts do not fit in {max_bytes} bytes")
        self.period = period
        self.rows = rows
        self.estimated_bytes = estimated_bytes
        self.max_bytes = max_bytes
        self.narrower = narrower

    @property
    def suggestion(self) -> PeriodFit | None:
        """The widest narrower period that fits, if one does."""
        return next((f for f in self.narrower if f.estimated_bytes <= self.max_bytes), None)


class NothingToExport(Exception):
    """The period holds no attempt."""


def period_start(period: Period, now: float, zone: tzinfo) -> float:
    """The instant the period began on the server's wall clock; all time began at -inf."""
    wall = datetime.fromtimestamp(now, zone).replace(tzinfo=None)
    midnight = wall.replace(hour=0, minute=0, second=0, microsecond=0)
    match period:
        case Period.TODAY:
            return place(midnight, zone)
        case Period.WEEK:
            return place(midnight - timedelta(days=midnight.weekday()), zone)
        case Period.MONTH:
            return place(midnight.replace(day=1), zone)
    return -inf


class ExportService:
    def __init__(self, store: Store, packs: Mapping[str, str], clock: Callable[[], float],
                 max_bytes: int = MAX_FILE_BYTES, chunk_rows: int = CHUNK_ROWS) -> None:
        self.store = store
        self.packs = packs  # problem id -> pack id, for run attempts
        self.clock = clock
        self.max_bytes = max_bytes
        self.chunk_rows = chunk_rows

    @classmethod
    def for_bank(cls, store: Store, bank: Bank, clock: Callable[[], float]) -> ExportService:
        return cls(store, {p.id: p.pack_id for p in bank.problems.values()}, clock)

    @asynccontextmanager
    async def exported(self, guild_id: int, period: Period) -> AsyncIterator[Export]:
        """The file, in a temporary folder removed when the block ends."""
        folder = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="tutorbot-export-"))
        try:
            yield await self._export(guild_id, period, folder)
        finally:
            await asyncio.to_thread(shutil.rmtree, folder, True)

    async def _export(self, guild_id: int, period: Period, folder: Path) -> Export:
        now = self.clock()
        zone = stored_zone((await self.store.settings.get(guild_id)).timezone)
        narrower = {p: period_start(p, now, zone) for p in NARROWER if p != period}
        day = datetime.fromtimestamp(now, UTC)
        path = folder / f"tutorbot-{guild_id}-{period.value}-{day:%Y%m%d}.csv.gz"
        with path.open("wb") as raw:
            with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6, mtime=0) as packed:
                packed.write((",".join(COLUMNS) + "\r\n").encode())
                counts, written = await self._write(packed, raw, guild_id,
                                                    period_start(period, now, zone),
                                                    list(narrower.values()))
            size = raw.tell()
        total = counts[0]
        if total == 0:
            raise NothingToExport(period)
        if size > self.max_bytes:  # never a cut file: say which period would fit
            raise self._too_big(period, total, dict(zip(narrower, counts[1:], strict=True)),
                                size / max(written, 1))
        return Export(path, path.name, total, size)

    async def _write(self, packed: gzip.GzipFile, raw: IO[bytes], guild_id: int,
                     since: float, starts: Sequence[float]) -> tuple[list[int], int]:
        """Compresses each chunk's lines off the loop while the next chunk is read (zlib and
        SQLite both work without holding the GIL). Past max_bytes it stops writing but
        goes on counting, for the narrower periods. Returns the attempts at or after since
        and each of starts, and how many of them were written."""
        counts = [0] * (1 + len(starts))
        written = 0
        writing: asyncio.Future[int] | None = None
        try:
            async for chunk in self._chunks(guild_id, since, starts):
                counts = [total + n for total, n in zip(counts, chunk.counts, strict=True)]
                written += await writing if writing is not None else 0
                writing = (asyncio.ensure_future(asyncio.to_thread(_compress, packed, chunk))
                           if raw.tell() <= self.max_bytes else None)
        finally:  # the file closes only once nothing writes to it
            written += await writing if writing is not None else 0
        return counts, written

    async def _chunks(self, guild_id: int, since: float,
                      starts: Sequence[float]) -> AsyncIterator[Chunk]:
        """Every attempt of the server at or after `since`, chunk by chunk: challenge
        attempts, then run attempts."""
        repo = self.store.exports
        after: Cursor | None = Cursor()
        while after is not None:
            chunk = await repo.challenge_attempts(guild_id, since, after, self.chunk_rows,
                                                  starts)
            yield chunk
            after = chunk.next
        after = Cursor()
        while after is not None:
            chunk = await repo.run_attempts(guild_id, since, after, self.chunk_rows,
                                            self.packs, starts)
            yield chunk
            after = chunk.next

    def _too_big(self, period: Period, total: int, narrower: Mapping[Period, int],
                 bytes_per_row: float) -> ExportTooBig:
        fits = [PeriodFit(p, n, round(n * bytes_per_row)) for p, n in narrower.items()
                if 0 < n < total]
        return ExportTooBig(period, total, round(total * bytes_per_row), self.max_bytes, fits)


def _compress(packed: gzip.GzipFile, chunk: Chunk) -> int:
    packed.write(chunk.lines.encode())
    return chunk.counts[0]
