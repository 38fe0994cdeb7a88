"""One error type for bad input, and the helper that reports every problem at once."""

from __future__ import annotations

MAX_LISTED = 20


class DataError(ValueError):
    """Bad input data: the message names the file(s) and the problem."""


def raise_if_problems(problems: list[str], what: str) -> None:
    """Raise one DataError listing the first MAX_LISTED problems and how many there are."""
    if not problems:
        return
    listed = "\n  ".join(problems[:MAX_LISTED])
    more = len(problems) - MAX_LISTED
    tail = f"\n  ... and {more} more" if more > 0 else ""
    raise DataError(f"{what}: {len(problems)} problem(s):\n  {listed}{tail}")
