"""The console every command prints its tables and notes through.

In a terminal, rich fits the output to the window. Written to a pipe or a log (``make demo``'s
output, CI), rich assumes 80 columns: a table's columns are then cut short ("raw/seeds.j…") and
every note wraps. There the console is :data:`LOG_WIDTH` wide, or wider for a table that needs it.
"""

from __future__ import annotations

from contextlib import contextmanager

LOG_WIDTH = 160


def console(min_width: int = LOG_WIDTH, **options):
    """A rich console: the terminal's width in a terminal, at least ``min_width`` columns elsewhere."""
    from rich.console import Console

    out = Console(**options)
    if out.is_terminal:
        return out
    return Console(width=max(out.width, min_width), **options)


def progress(*columns, quiet: bool = False, **options):
    """A rich progress bar, shown only in a terminal: written to a pipe or a log, a bar is never
    redrawn, and rich would leave its last frame (or a blank line) among the command's output."""
    from rich import get_console
    from rich.progress import Progress

    shown_on = options.get("console") or get_console()
    return Progress(*columns, disable=quiet or not shown_on.is_terminal, **options)


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and its noun in the number it takes: "1 article", "3 articles", "0 flags"."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


@contextmanager
def quiet_logger(name: str | None = None):
    """A library's logger (the root one without ``name``) held at ERROR for the block: its notes
    a user can do nothing about stay off the screen; its errors still show."""
    import logging

    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)
