"""Predict-output experiments: run a problem's snippet as shown and match what it printed.

Shared by the scripts that run the exact code a problem shows and derive the answer from its
printed output (an uncaught error counts as its last traceback line).
"""

from __future__ import annotations

import contextlib
import io
import warnings

from bot.worker.lab.env import seed_everything


def execute(code: str) -> tuple[str, list[str]]:
    """Runs the snippet as a fresh module: what it printed (an uncaught error as
    `Type: message`, the way Python ends a traceback) and the warnings it raised."""
    out = io.StringIO()
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(out):
        warnings.simplefilter("always")
        try:
            exec(compile(code, "<problem>", "exec"), {"__name__": "__problem__"})
        except Exception as exc:  # the learner's choices include errors
            print(f"{type(exc).__name__}: {exc}")
    return out.getvalue().strip(), [str(w.message) for w in caught]


def run_per_seed(ctx, code: str) -> tuple[str, list[str]]:
    """Runs the snippet once per seed and logs what it printed; it draws no random numbers,
    so every seed must print the same."""
    outputs, caught = [], []
    for index, seed in enumerate(ctx.seeds):
        seed_everything(seed)
        printed, notes = execute(code)
        outputs.append(printed)
        caught.append(notes)
        ctx.progress(index + 1, len(ctx.seeds), f"seed {seed}")
    same = outputs.count(outputs[0])
    ctx.log(f"The snippet printed: {first_sentence(outputs[0])}")
    ctx.log(f"(the same in {same} of {len(ctx.seeds)} seeds)")
    if same != len(outputs):
        raise RuntimeError(f"the outputs differ between seeds: {outputs}")
    return outputs[0], caught[0]


def first_sentence(text: str) -> str:
    """An error message up to its first full stop or bracket: long enough to recognise."""
    marks = (text.find(". "), text.find(" ("), text.find(": ["))
    cut = min((i for i in marks if i > 0), default=len(text))
    return text[:cut]


def match_choice(printed: str, choices: dict[str, str]) -> str:
    """The letter whose text is what the code printed (an error matches by its start)."""
    for letter, text in choices.items():
        if printed == text:
            return letter
    for letter, text in choices.items():
        if text.split(":")[0].endswith("Error") and printed.startswith(text):
            return letter
    raise ValueError(f"printed {printed!r}, which matches no choice")
