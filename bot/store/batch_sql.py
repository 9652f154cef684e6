"""Set-based reads and writes for PostgreSQL's batch paths: a whole batch of rows in one
statement, its columns sent as arrays and read back as rows with unnest().

A batch path reads first, decides in Python, then writes. A row it read and then changes is
written only if it is still as it was read (compared in the statement's WHERE, the rows
written counted after): otherwise another transaction got there first, and StaleRead sends
the batch back to the one-by-one path, which reads again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any


class StaleRead(Exception):
    """A row this batch read was changed, or inserted, by another transaction before the
    batch wrote it."""


def unnest(*types: str) -> str:
    """`unnest(?::bigint[], ?::text[])`: a row source of one array parameter per column."""
    return "unnest(" + ", ".join(f"?::{t}[]" for t in types) + ")"


def arrays(rows: Iterable[Sequence[Any]], width: int) -> tuple[list[Any], ...]:
    """Rows turned into one list per column, the parameters of an unnest()."""
    columns = tuple(list(column) for column in zip(*rows, strict=True))
    if not columns:
        return tuple([] for _ in range(width))
    if len(columns) != width:
        raise ValueError(f"rows of {len(columns)} values for {width} columns")
    return columns
