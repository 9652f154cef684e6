"""Small pack.yaml texts with known line numbers, for the loader and CLI tests.

VALID is a one-problem pack that loads. Its lines, for reading the expected line numbers:

     1 id: demo                     12       A: alpha
     2 title: Demo pack             13       B: beta
     3 badge:                       14       C: gamma
     4   name: Demo Master          15     answer: B
     5 problems:                    16     hint: Think.
     6   - id: first                17     explanation: Because.
     7     kind: conceptual         18     sources: [{{title: Demo documentation}}]
     8     difficulty: intermediate 19     why_not:
     9     title: A fine title      20       A: not alpha
    10     prompt: What is it?      21       C: not gamma
    11     choices:
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
    sources: [{{title: Demo documentation}}]
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
