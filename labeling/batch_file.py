"""A batch file of `next` / `submit`: the JSONL batch (or a TSV of ``task<TAB>pairs`` lines) an
annotator fills in, read back and checked against the scheme before anything is sent, and written.

The rows' tasks, queues and the server are ``labeling/team.py``'s; this module knows only the file:
its two formats, the ``actor/stance`` shorthand, and what makes a row refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from stance.errors import StanceError
from stance.io import dumps_jsonl, read_jsonl, write_atomic
from stance.scheme import Pair, Scheme


def parse_shorthand(text: str, scheme: Scheme, where: str) -> tuple[Pair, ...]:
    """``pakistan/demand; afghan_taliban/denial`` (primary first) or ``none`` -> pairs."""
    text = text.strip()
    if text == scheme.none:
        return ()
    pairs = []
    for part in text.split(";"):
        actor, sep, stance = part.strip().partition("/")
        if not sep:
            raise StanceError(
                f"{where}: '{part.strip()}' is not actor/stance (or '{scheme.none}' for no stance)"
            )
        pairs.append(scheme.check_pair(actor.strip(), stance.strip(), where))
    return tuple(dict.fromkeys(pairs))


def batch_rows(path: Path):
    """(line number, task, pairs) from a JSONL batch or a TSV of ``task<TAB>pairs`` lines."""
    if path.suffix.lower() == ".tsv":
        from stance.io import read_text

        for n, line in enumerate(read_text(path, "a TSV file").splitlines(), 1):
            if not line.strip() or line.startswith("#") or line.lower().startswith("task\t"):
                continue
            task, tab, pairs = line.partition("\t")
            number = task.strip().isascii() and task.strip().isdigit()  # "²" is a digit, not a number
            if not tab and not number:  # an editor turned the tab into spaces
                raise StanceError(
                    f"{path}:{n}: no tab on this line: a TSV line is TASK<TAB>PAIRS "
                    f"(e.g. '12<TAB>pakistan/demand'), got {line.strip()!r}"
                )
            yield n, int(task) if number else task, pairs
        return
    for n, row in read_jsonl(path):
        yield n, row.get("task"), row.get("pairs")


class BatchRow(NamedTuple):
    """A filled-in row of a batch: the task, its pairs, and where it is (``FILE:LINE``) for errors."""

    task: int
    pairs: tuple[Pair, ...]
    where: str = "the batch"


def read_batch(path: Path, scheme: Scheme, later: list[int] | None = None) -> list[BatchRow]:
    """The filled-in rows; every row checked before anything is sent.

    A JSONL batch (from ``next``) with ``pairs`` set to a list of {actor, stance} or to the
    shorthand, or a TSV of ``task<TAB>pairs`` lines in the shorthand
    (``pakistan/demand; afghan_taliban/denial``, primary first, or ``none``). A row with no pairs
    yet is refused, or, given a ``later`` list, its task is put there and the row left for a later
    submit of the same file (a reviewer who decides over several sittings).
    """
    from labeling.records import parse_pairs

    out, seen = [], set()
    for n, task, pairs in batch_rows(path):
        line = where = f"{path}:{n}"
        if not isinstance(task, int) or isinstance(task, bool) or task < 1:
            raise StanceError(f"{where}: 'task' must be a task id (a positive integer), got {task!r}")
        if (pairs is None or pairs == "") and later is not None:
            later.append(task)
            continue
        if pairs is None or pairs == "":
            raise StanceError(
                f"{where}: task {task} has no pairs yet: give the pairs, primary first, or '{scheme.none}' "
                "(or send the rows that have them with --partial)"
            )
        if task in seen:
            raise StanceError(f"{where}: task {task} appears twice in the batch")
        seen.add(task)
        where = f"{where} (task {task})"
        parsed = (
            parse_shorthand(pairs, scheme, where)
            if isinstance(pairs, str)
            else parse_pairs(pairs, scheme, where)
        )
        out.append(BatchRow(task, parsed, line))
    if not out:
        raise StanceError(f"{path}: " + ("no row has its pairs yet" if later else "the batch holds no rows"))
    return out


def write_batch(rows: list[dict], out: Path) -> None:
    write_atomic(out, dumps_jsonl(rows))
