"""The console every command prints its tables and notes through.

In a terminal, rich fits the output to the window. Written to a pipe or a log (``make demo``'s
output, CI), rich assumes 80 columns: a table's columns are then cut short ("raw/seeds.j…") and
every note wraps. There the console is :data:`LOG_WIDTH` wide, or wider for a table that needs it.
"""

from __future__ import annotations

import itertools
import re
import sys
import time
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
    redrawn, and rich would leave its last frame (or a blank line) among the command's output.
    There, a task that runs long says how far it got in a plain line on standard error at most
    every :data:`PLAIN_EVERY` seconds (:class:`PlainProgress`): `make demo > demo.log` and CI's
    log showed nothing for the minutes a grouped CV takes."""
    from rich import get_console
    from rich.progress import Progress

    shown_on = options.get("console") or get_console()
    if not quiet and not shown_on.is_terminal:
        return PlainProgress()
    return Progress(*columns, disable=quiet or not shown_on.is_terminal, **options)


PLAIN_EVERY = 30.0  # seconds between two progress lines of one task in a log


class PlainProgress:
    """The part of rich's Progress the commands use (add_task, advance, update, remove_task), said
    as lines such as ``grouped 5-fold CV (hybrid): 2 of 5 (1 min 58 s)``: one when a task has run
    :data:`PLAIN_EVERY` seconds since its start or its last line, none for a quick task."""

    def __init__(self) -> None:
        self.tasks: dict[int, dict] = {}
        self.ids = itertools.count()  # a removed task's id is never handed out again

    def __enter__(self) -> PlainProgress:
        return self

    def __exit__(self, *exc) -> None:
        return None

    def add_task(self, description: str, total: float | None = None, **_) -> int:
        now, task = time.monotonic(), next(self.ids)
        self.tasks[task] = {
            "description": description,
            "total": total,
            "done": 0,
            "start": now,
            "said": now,
        }
        return task

    def advance(self, task: int, advance: float = 1) -> None:
        self.update(task, advance=advance)

    def update(self, task: int, description: str | None = None, advance: float = 0, **_) -> None:
        t = self.tasks[task]
        t["description"] = description or t["description"]
        t["done"] += advance
        now = time.monotonic()
        if advance and now - t["said"] >= PLAIN_EVERY:
            t["said"] = now
            total = f" of {t['total']:g}" if t["total"] is not None else ""
            print(
                f"{t['description']}: {t['done']:g}{total} ({_took(now - t['start'])})",
                file=sys.stderr,
                flush=True,
            )

    def remove_task(self, task: int) -> None:
        self.tasks.pop(task, None)


def _took(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if minutes else f"{rest} s"


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and its noun in the number it takes: "1 article", "3 articles", "0 flags"."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def one_line(text: str) -> str:
    """A sentence as a terminal shows it: a PDF's or a saved page's line breaks inside it as spaces,
    so a row or an evidence line stays one line (the JSON and CSV keep the article's own text); a
    word a line end cut after its hyphen or dash is whole again ("high-\nlevel" reads "high-level",
    "2022–\n23" "2022–23": a browser breaks a line only at a hyphen or dash the text has)."""
    return " ".join(_LINE_END_HYPHEN.sub("", text).split())


_LINE_END_HYPHEN = re.compile(r"(?<=[^\W_][-\u2010\u2013\u2014])[ \t]*\r?\n\s*(?=[^\W_])")


def first_few(names: list[str], shown: int = 3) -> str:
    """The first ``shown`` names and how many more: "a, b, c and 2 more"."""
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


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
