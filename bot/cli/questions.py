"""`tutorbot questions check|schema`: for pack authors."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TextIO

from bot.bank import PackValidationError, load_bank
from bot.bank.schema import pack_schema


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
