"""Text from outside (settings, arguments, pack files) made safe for one line of output."""

from __future__ import annotations


def printable(text: str) -> str:
    """text with what a terminal would act on (escape sequences, newlines) shown escaped, as
    repr does: it can neither fake output lines (or a CI annotation) nor move the cursor."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
