"""/export: a server's attempts, every mode, oldest first, as a gzipped CSV file that fits
one Discord attachment. Knows no Discord.

Memory stays bounded whatever the server's history: attempts are read in chunks (each one
short unit on the database thread, bot/store/export.py), sorted by time in runs of at most
RUN_ROWS that are spilled to a temporary folder, and merged from there into the file: an
external sort, since no index orders a server's attempts by time across challenges and runs.
"""

from __future__ import annotations

import asyncio
import gzip
import pickle
import shutil
import tempfile
from bisect import bisect_left, bisect_right
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
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
from bot.store.export import COLUMNS, LINE, ChallengeCursor, ExportRow, RunCursor

ATTACHMENT_LIMIT = 10 * 1024 * 1024  # Discord's limit for a bot's upload
SIZE_MARGIN = 256 * 1024  # headroom for the request around the file
MAX_FILE_BYTES = ATTACHMENT_LIMIT - SIZE_MARGIN
CHUNK_ROWS = 2_000  # one database unit: about 20 ms on a slow machine
RUN_ROWS = 20_000  # rows sorted in memory at once before they are spilled
BLOCK_ROWS = 256  # rows per pickled block: what the merge holds of each run
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


class SortedSpill:
    """An external sort by time: add rows in any order, then read them back in order.

    It also counts the rows at or after each of `starts`, from each sorted run (a bisection,
    not a pass over the rows): how big a narrower period would be.
    """

    def __init__(self, folder: Path, starts: Iterable[float] = (),
                 run_rows: int = RUN_ROWS) -> None:
        self.folder = folder
        self.run_rows = run_rows
        self.buffer: list[ExportRow] = []
        self.runs: list[Path] = []
        self.total = 0
        self.since = dict.fromkeys(starts, 0)

    def add(self, rows: Iterable[ExportRow]) -> None:
        self.buffer.extend(rows)
        if len(self.buffer) >= self.run_rows:
            self.spill()

    def spill(self) -> None:
        self._sort_and_count()
        path = self.folder / f"run-{len(self.runs)}.pickle"
        with path.open("wb") as file:
            for start in range(0, len(self.buffer), BLOCK_ROWS):
                pickle.dump(self.buffer[start:start + BLOCK_ROWS], file,
                            protocol=pickle.HIGHEST_PROTOCOL)
        self.runs.append(path)
        self.buffer = []

    def finish(self) -> None:
        """No more rows: counts are final after this."""
        if self.runs and self.buffer:
            self.spill()
        elif not self.runs:  # it all fitted in memory: no file to read back
            self._sort_and_count()

    def merged(self) -> Iterator[list[ExportRow]]:
        """Every row in order, in batches; call finish() first."""
        if not self.runs:
            return iter([self.buffer])
        return merge_runs([_read_blocks(path) for path in self.runs])

    def _sort_and_count(self) -> None:
        self.buffer.sort()
        self.total += len(self.buffer)
        for start in self.since:
            self.since[start] += len(self.buffer) - bisect_left(self.buffer, (start,))


def merge_runs(runs: list[Iterator[list[ExportRow]]]) -> Iterator[list[ExportRow]]:
    """Merges sorted runs, read block by block, a batch at a time: every row up to the
    smallest last row of the blocks in hand is final, since each run's later blocks hold
    only larger rows. Sorting that batch (sorted pieces, so timsort merges them) keeps the
    per-row work in C."""
    blocks = [next(run, []) for run in runs]
    while any(blocks):
        bound = min(block[-1] for block in blocks if block)
        batch: list[ExportRow] = []
        for i, block in enumerate(blocks):
            cut = bisect_right(block, bound)
            batch.extend(block[:cut])
            blocks[i] = block[cut:] or next(runs[i], [])
        batch.sort()
        yield batch


def _read_blocks(path: Path) -> Iterator[list[ExportRow]]:
    with path.open("rb") as file:
        while True:
            try:
                yield pickle.load(file)
            except EOFError:
                return


class FileTooBig(Exception):
    def __init__(self, rows_written: int, bytes_written: int) -> None:
        super().__init__("the compressed file passed its limit")
        self.bytes_per_row = bytes_written / max(rows_written, 1)


def write_csv_gz(batches: Iterable[list[ExportRow]], path: Path, max_bytes: int) -> int:
    """Writes the rows' lines as gzipped CSV after a header; stops with FileTooBig as soon
    as the file passes max_bytes, so a file too big is neither finished nor sent. Returns
    the compressed size."""
    with path.open("wb") as raw:
        with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6, mtime=0) as packed:
            written = _write_lines(batches, packed, raw, max_bytes)
        size = raw.tell()
    if size > max_bytes:
        raise FileTooBig(written, size)
    return size


def _write_lines(batches: Iterable[list[ExportRow]], packed: gzip.GzipFile, raw: IO[bytes],
                 max_bytes: int) -> int:
    packed.write((",".join(COLUMNS) + "\r\n").encode())
    written = 0
    for batch in batches:
        packed.write("".join([row[LINE] for row in batch]).encode())
        written += len(batch)
        if raw.tell() > max_bytes:
            raise FileTooBig(written, raw.tell())
    return written


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
        starts = {p: period_start(p, now, zone) for p in NARROWER if p != period}
        spill = SortedSpill(folder, starts.values())
        await self._read_into(spill, guild_id, period_start(period, now, zone))
        if spill.total == 0:
            raise NothingToExport(period)
        day = datetime.fromtimestamp(now, UTC)
        path = folder / f"tutorbot-{guild_id}-{period.value}-{day:%Y%m%d}.csv.gz"
        try:
            size = await asyncio.to_thread(write_csv_gz, spill.merged(), path, self.max_bytes)
        except FileTooBig as exc:
            narrower = {p: spill.since[start] for p, start in starts.items()}
            raise self._too_big(period, spill.total, narrower, exc.bytes_per_row) from None
        return Export(path, path.name, spill.total, size)

    async def _read_into(self, spill: SortedSpill, guild_id: int, since: float) -> None:
        """Sorting and spilling run off the loop while the next chunk is read: SQLite
        builds its lines without holding the GIL, so the two overlap."""
        adding: asyncio.Future[None] | None = None
        async for rows in self._chunks(guild_id, since):
            if adding is not None:
                await adding
            adding = asyncio.ensure_future(asyncio.to_thread(spill.add, rows))
        if adding is not None:
            await adding
        await asyncio.to_thread(spill.finish)

    async def _chunks(self, guild_id: int, since: float) -> AsyncIterator[list[ExportRow]]:
        """Every attempt of the server at or after `since`, chunk by chunk, in no time order."""
        repo = self.store.exports
        after: ChallengeCursor | RunCursor | None = ChallengeCursor()
        while isinstance(after, ChallengeCursor):
            chunk = await repo.challenge_attempts(guild_id, since, after, self.chunk_rows)
            yield chunk.rows
            after = chunk.next
        after = RunCursor()
        while isinstance(after, RunCursor):
            chunk = await repo.run_attempts(guild_id, since, after, self.chunk_rows,
                                            self.packs)
            yield chunk.rows
            after = chunk.next

    def _too_big(self, period: Period, total: int, narrower: Mapping[Period, int],
                 bytes_per_row: float) -> ExportTooBig:
        fits = [PeriodFit(p, n, round(n * bytes_per_row)) for p, n in narrower.items()
                if 0 < n < total]
        return ExportTooBig(period, total, round(total * bytes_per_row), self.max_bytes, fits)
