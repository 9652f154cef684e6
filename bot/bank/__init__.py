"""Question packs: the format, loading, validation and the JSON Schema for editors."""

from bot.bank.loader import Bank, load_bank, load_pack
from bot.bank.model import DIFFICULTIES, KINDS, Badge, Experiment, Pack, Problem, Source
from bot.bank.validate import PackError, PackValidationError

__all__ = [
    "DIFFICULTIES",
    "KINDS",
    "Badge",
    "Bank",
    "Experiment",
    "Pack",
    "PackError",
    "PackValidationError",
    "Problem",
    "Source",
    "load_bank",
    "load_pack",
]
