"""`tutorbot questions check|schema|verify`: for pack authors."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from bot.bank import PackValidationError, load_bank
from bot.bank.loader import Bank, pack_files
from bot.bank.model import Problem
from bot.bank.schema import pack_schema
from bot.config import clip

if TYPE_CHECKING:
    from bot.worker.verify import VerifyOutcome

PATH_ECHO = 80  # keeps the refusal within one 200-character line


def why_no_packs(path: Path) -> str | None:
    """Why path holds no pack to load (one short phrase, path first), or None if it does."""
    shown = clip(str(path), PATH_ECHO)
    try:
        if not path.exists():
            return f"{shown} does not exist"
        if not pack_files(path):
            return f"{shown} holds no <pack>/pack.yaml"
    except OSError as exc:  # a folder we may not list, a name too long for the system
        return f"{shown} cannot be read ({exc.strerror})"
    return None


def check(path: Path, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Prints every error and returns 1, or a summary and returns 0."""
    try:
        bank = load_bank(path)
    except PackValidationError as exc:
        for error in exc.errors:
            print(error, file=err)
        count = len(exc.errors)
        print(f"{count} error{'s' if count != 1 else ''} in {path}", file=err)
        return 1
    for pack in bank:
        kinds = sorted({p.kind for p in pack.problems})
        print(f"✓ {pack.id}: {len(pack.problems)} problems ({', '.join(kinds)}); "
              f"badge: {pack.badge.name}", file=out)
    print(f"{len(bank.packs)} pack(s), {len(bank.problems)} problems: all valid", file=out)
    return 0


def schema(out: TextIO = sys.stdout) -> int:
    json.dump(pack_schema(), out, indent=2, ensure_ascii=False)
    out.write("\n")
    return 0


@dataclass(frozen=True)
class Selection:
    """The packs and problems `verify --pack/--problem` names; nothing named means all."""

    packs: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def unknown(self, bank: Bank, path: Path) -> list[str]:
        """One line per id that names nothing in bank (loaded from path)."""
        where = clip(str(path), PATH_ECHO)
        packs = ", ".join(bank.packs)
        return ([f"no pack {clip(i, PATH_ECHO)} in {where} (its packs: {packs})"
                 for i in self.packs if i not in bank.packs]
                + [f"no problem {clip(i, PATH_ECHO)} in the packs in {where}"
                   for i in self.problems if i not in bank.problems])

    def chosen(self, bank: Bank) -> list[Problem]:
        if not self.packs and not self.problems:
            return list(bank.problems.values())
        return [p for p in bank.problems.values()
                if p.pack_id in self.packs or p.id in self.problems]


def verify(path: Path, size: str, cache_dir: Path, timeout_s: float,
           selection: Selection | None = None, jobs: int = 1,
           out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Runs the selected experiments and checks the answer each derives against the key.

    0: every key confirmed; 1: invalid packs or a contradicted key; 2: an unknown id."""
    import asyncio

    from bot.worker.verify import verify as run_all

    try:
        bank = load_bank(path)
    except PackValidationError as exc:
        for error in exc.errors:
            print(error, file=err)
        return 1
    selection = selection or Selection()
    if unknown := selection.unknown(bank, path):
        for line in unknown:
            print(f"tutorbot: {line}", file=err)
        return 2
    problems = selection.chosen(bank)
    items = [(p.id, p.experiment.path(bank.pack_of(p).directory), dict(p.experiment.params),
              p.answer) for p in problems if p.experiment is not None]
    untested = [p.id for p in problems if p.experiment is None]
    lanes = f", {jobs} at a time" if jobs > 1 and len(items) > 1 else ""
    print(f"Running {len(items)} experiments at size '{size}'{lanes}…", file=out, flush=True)
    outcomes = asyncio.run(run_all(items, size=size, on_result=lambda o: _show(o, out),
                                   timeout_s=timeout_s, cache_dir=cache_dir, jobs=jobs))
    if untested:
        print(f"No experiment (not verified): {', '.join(untested)}", file=out)
    failed = [o.problem_id for o in outcomes if not o.ok]
    if failed:
        print(f"The runs contradict the key of: {', '.join(failed)}", file=err)
        return 1
    print(f"All {len(outcomes)} answer keys confirmed by their runs.", file=out)
    return 0


def _show(outcome: VerifyOutcome, out: TextIO) -> None:
    mark = "✓" if outcome.ok else "✗"
    derived = outcome.derived or "no answer"
    detail = f" ({outcome.error})" if outcome.error else ""
    print(f"{mark} {outcome.problem_id}: key {outcome.expected}, run derives {derived} "
          f"in {outcome.duration_s:.1f} s{detail}", file=out, flush=True)
