"""`tutorbot questions check|schema|verify`: for pack authors."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TextIO

from bot.bank import PackValidationError, load_bank
from bot.bank.loader import pack_files
from bot.bank.schema import pack_schema
from bot.config import clip

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


def verify(path: Path, size: str, cache_dir: Path, timeout_s: float,
           out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Runs every experiment and checks the answer it derives against the key."""
    import asyncio

    from bot.worker.verify import VerifyOutcome
    from bot.worker.verify import verify as run_all

    try:
        bank = load_bank(path)
    except PackValidationError as exc:
        for error in exc.errors:
            print(error, file=err)
        return 1
    items = [(p.id, p.experiment.path(bank.pack_of(p).directory), dict(p.experiment.params),
              p.answer) for p in bank.problems.values() if p.experiment is not None]
    untested = [p.id for p in bank.problems.values() if p.experiment is None]
    print(f"Running {len(items)} experiments at size '{size}'…", file=out, flush=True)

    def show(outcome: VerifyOutcome) -> None:
        mark = "✓" if outcome.ok else "✗"
        derived = outcome.derived or "no answer"
        detail = f" ({outcome.error})" if outcome.error else ""
        print(f"{mark} {outcome.problem_id}: key {outcome.expected}, run derives {derived} "
              f"in {outcome.duration_s:.1f} s{detail}", file=out, flush=True)

    outcomes = asyncio.run(run_all(items, size=size, on_result=show, timeout_s=timeout_s,
                                   cache_dir=cache_dir))
    if untested:
        print(f"No experiment (not verified): {', '.join(untested)}", file=out)
    failed = [o.problem_id for o in outcomes if not o.ok]
    if failed:
        print(f"The runs contradict the key of: {', '.join(failed)}", file=err)
        return 1
    print(f"All {len(outcomes)} answer keys confirmed by their runs.", file=out)
    return 0
