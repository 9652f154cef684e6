"""The typed, validated shape of a question pack."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

KINDS: Mapping[str, str] = MappingProxyType(
    {
        "conceptual": "Conceptual",
        "predict-output": "Predict the output",
        "model-choice": "Model choice",
        "hyperparameter": "Hyperparameter",
        "metrics": "Metrics",
    }
)
KIND_EMOJI: Mapping[str, str] = MappingProxyType(
    {
        "conceptual": "🧠",
        "predict-output": "🖥️",
        "model-choice": "🏗️",
        "hyperparameter": "🎛️",
        "metrics": "📈",
    }
)
DIFFICULTIES: tuple[str, ...] = ("intermediate", "advanced", "expert")
CHOICE_LETTERS: tuple[str, ...] = ("A", "B", "C", "D", "E")

TIME_LIMIT_RANGE = (10, 900)
ATTEMPTS_RANGE = (1, 5)
DEFAULT_TIME_LIMIT = 120
DEFAULT_ATTEMPTS = 2


@dataclass(frozen=True)
class Experiment:
    """A script in the pack's experiments/ folder that demonstrates the answer."""

    script: str
    params: Mapping[str, object] = field(default_factory=dict)

    def path(self, pack_dir: Path) -> Path:
        return pack_dir / "experiments" / self.script


@dataclass(frozen=True)
class Source:
    """A documentation page or paper section that backs a key no experiment checks."""

    title: str
    section: str | None = None
    url: str | None = None

    def label(self) -> str:
        return f"{self.title}, {self.section}" if self.section else self.title


@dataclass(frozen=True)
class Problem:
    id: str
    pack_id: str
    kind: str
    difficulty: str
    title: str
    prompt: str
    choices: Mapping[str, str]
    answer: str
    hint: str
    explanation: str
    why_not: Mapping[str, str]
    time_limit: int
    attempts: int
    code: str | None = None
    experiment: Experiment | None = None
    sources: tuple[Source, ...] = ()

    @property
    def letters(self) -> tuple[str, ...]:
        return tuple(self.choices)

    @property
    def kind_label(self) -> str:
        return KINDS[self.kind]


@dataclass(frozen=True)
class Badge:
    name: str
    emoji: str
    description: str


@dataclass(frozen=True)
class Pack:
    id: str
    title: str
    summary: str
    badge: Badge
    problems: tuple[Problem, ...]
    path: Path
    id_lines: Mapping[str, int] = field(default_factory=dict)  # for errors across packs

    @property
    def directory(self) -> Path:
        return self.path.parent

    def problem(self, problem_id: str) -> Problem | None:
        return next((p for p in self.problems if p.id == problem_id), None)
