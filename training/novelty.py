"""Which rolling-origin test articles come from an outlet their model never trained on (issue 11).

Issue 11's held-out articles come from outlets and dates outside the training data. The rolling
origin (``timesplit.evaluate_rolling``) holds the dates out: each block is scored by a model fitted
only on older articles. This module holds the outlets apart on the same predictions: a test
article is **new** when no article of its block's training set came from its outlet
(``articles.tsv``'s ``outlet``, compared case- and space-blind), **seen** when one did, and
**unknown** when it has no outlet. ``stance train`` logs the rolling origin's figures on the
new-outlet articles (``rolling_new_outlet_*``); experiments/outlet_novelty.py sets them beside
the seen ones.
"""

from __future__ import annotations

import csv
from pathlib import Path

from stance import paths
from training import timesplit

PREFIX = "rolling_new_outlet"


def outlet_key(name: str | None) -> str | None:
    """An outlet as compared: case- and space-blind; None when blank."""
    key = " ".join((name or "").split()).casefold()
    return key or None


def outlets(tables: list[Path] | None = None) -> dict[str, str | None]:
    """Each article's outlet key, from the sources' ``articles.tsv`` files that exist."""
    out: dict[str, str | None] = {}
    for table in paths.article_tables() if tables is None else tables:
        if table.is_file():
            with table.open(encoding="utf-8", newline="") as f:
                for row in csv.DictReader(f, delimiter="\t"):
                    out[row["article"]] = outlet_key(row.get("outlet"))
    return out


def novelty(cuts: list[tuple[set, set]], outlet: dict[str, str | None]) -> dict[tuple[int, str], str]:
    """(block, test article) -> "seen", "new" or "unknown": whether an article of that block's
    training set came from the test article's outlet. Blocks are numbered from 1, newest first."""
    status = {}
    for b, (train, test) in enumerate(cuts, 1):
        known = {outlet.get(a) for a in train} - {None}
        for a in test:
            o = outlet.get(a)
            status[(b, a)] = "unknown" if o is None else "seen" if o in known else "new"
    return status


def block_cuts(data, rows: list[dict]) -> list[tuple[set, set]] | None:
    """The (training, test) article sets of the rolling-origin ``rows`` (each with its ``block``),
    rebuilt from ``data`` (train and test together) as ``timesplit.evaluate_rolling`` cut them; None
    when they do not match the rows' blocks."""
    articles = list(data["article"])
    dates = {a: d or None for a, d in zip(articles, data["date"], strict=True)}
    tested: dict[int, set] = {}
    for r in rows:
        tested.setdefault(r["block"], set()).add(r["article"])
    first = tested.get(1, set())
    cuts = timesplit.rolling_blocks(set(articles) - first, first, dates, max(tested, default=0))
    return cuts if [test for _, test in cuts] == [tested[b] for b in sorted(tested)] else None


def rolling_figures(data, rows: list[dict], scheme, outlet: dict[str, str | None] | None = None):
    """``rolling_new_outlet_*``: the rolling origin's figures, with intervals by article, on the
    articles from an outlet their block's model never trained on; empty when there are none (or
    the rows' blocks cannot be rebuilt)."""
    cuts = block_cuts(data, rows) if rows else None
    if not cuts:
        return {}
    status = novelty(cuts, outlets() if outlet is None else outlet)
    part = [r for r in rows if status.get((r["block"], r["article"])) == "new"]
    return timesplit.row_figures(PREFIX, part, scheme) if part else {}
