"""Small pack.yaml texts with known line numbers, for the loader and CLI tests.

VALID is a one-problem pack that loads. Its lines, for reading the expected line numbers:

     1 id: demo                     11     choices:
     2 title: Demo pack             12       A: alpha
     3 badge:                       13       B: beta
     4   name: Demo Master          14       C: gamma
     5 problems:                    15     answer: B
     6   - id: first                16     hint: Think.
     7     kind: conceptual         17     explanation: Because.
     8     difficulty: intermediate 18     why_not:
     9     title: A fine title      19       A: not alpha
    10     prompt: What is it?      20       C: not gamma
"""

from __future__ import annotations

from pathlib import Path


def pack_text(pack_id: str = "demo", problem_id: str = "first") -> str:
    return f"""\
id: {pack_id}
title: Demo pack
badge:
  name: Demo Master
problems:
{problem_text(problem_id)}"""


def problem_text(problem_id: str = "first") -> str:
    return f"""\
  - id: {problem_id}
    kind: conceptual
    difficulty: intermediate
    title: A fine title
    prompt: What is it?
    choices:
      A: alpha
      B: beta
      C: gamma
    answer: B
    hint: Think.
    explanation: Because.
    why_not:
      A: not alpha
      C: not gamma
"""


VALID = pack_text()


def write_pack(folder: Path, text: str, scripts: tuple[str, ...] = ()) -> Path:
    """Writes folder/pack.yaml (and experiments/<script> for each script); returns the file."""
    folder.mkdir(parents=True, exist_ok=True)
    if scripts:
        (folder / "experiments").mkdir(exist_ok=True)
        for script in scripts:
            (folder / "experiments" / script).write_text("print('demo')\n", encoding="utf-8")
    file = folder / "pack.yaml"
    file.write_text(text, encoding="utf-8")
    return file
