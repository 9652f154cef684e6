"""The sentences /export answers with."""

from __future__ import annotations

from bot.core.export import Export, ExportTooBig
from bot.core.periods import Period


def mib(size: int) -> str:
    return f"{size / 2**20:.1f} MB"


def exported_reply(export: Export, period: Period) -> str:
    return (f"📦 {export.rows:,} attempts ({period.label.lower()}) as CSV "
            f"(gzip, {mib(export.size)}): challenges by deadline, then practice, badge runs "
            "and reviews by start. Display names starting with = + - or @ carry a "
            "leading ' so spreadsheets show them as text.")


def nothing_reply(period: Period) -> str:
    return f"There are no attempts to export for {period.label.lower()}."


def too_big_reply(error: ExportTooBig) -> str:
    """Never a cut file: say how big it would be, and which period would fit."""
    head = (f"📦 {error.rows:,} attempts ({error.period.label.lower()}) come to about "
            f"{mib(error.estimated_bytes)} compressed, more than the {mib(error.max_bytes)} "
            "one Discord file may hold.")
    fit = error.suggestion
    if fit is None:
        return head + " Even today's attempts are too many for one file."
    return (head + f" Narrow it: `/export period:{fit.period.label}` has {fit.rows:,} "
                   f"attempts (about {mib(fit.estimated_bytes)}).")
