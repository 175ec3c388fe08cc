"""The time split: train on the older labeled articles, test on the newest, whole articles.

Grouped CV mixes 2022 and 2025 articles in every fold; a user scores coverage that
is *newer* than anything labeled. The time split asks the question the user asks:
trained on what came before, how well does the model do on what came after?

Dates come from each source's ``articles.tsv`` (``stance.paths.article_tables``:
seeds, corpus, coverage). A date beginning with ``~`` was inferred from the text or
the url and is used as it is; a month-only date (``~2023-09``) counts as the first
of its month. Articles without a date go to training, never to the test set. The
test set is the newest *dates*, taken whole until they hold at least ``share`` of
the labeled articles, so every test article is at least as new as every dated
training article.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from stance import paths
from stance.errors import StanceError

TEST_SHARE = 0.2  # at least this share of the labeled articles, the newest, is the test set
PREDICTIONS = "evaluation/time_split_predictions.jsonl"  # the test sentences' predictions, on each run
CONFIDENCE = "evaluation/confidence_time_split.md"  # their pair accuracy by confidence band
ROLLING = "evaluation/rolling_origin_predictions.jsonl"  # every block's predictions, block 1 the time split's
ROLLING_BLOCKS = 3  # the time split and two older blocks (README, "Rolling origin")
_DATE = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$")


@dataclass(frozen=True)
class TimeSplit:
    train: frozenset[str]
    test: frozenset[str]
    cutoff: str | None  # the oldest test date (ISO); None when nothing is dated
    undated: tuple[str, ...] = field(default=())

    def describe(self) -> str:
        if not self.test:
            return "no time split: no labeled article has a date"
        return (
            f"time split: {len(self.test)} newest articles (dated {self.cutoff} or later) as test, "
            f"{len(self.train)} older or undated as train ({len(self.undated)} undated)"
        )


def date_key(raw: str, where: str = "date") -> str | None:
    """``2025-10-19``, ``~2025-10-25``, ``~2023-09`` -> a sortable ISO date; ``""`` -> None."""
    text = raw.strip().removeprefix("~").strip()
    if not text:
        return None
    m = _DATE.match(text)
    if not m:
        raise StanceError(
            f"{where}: '{raw}' is not a date (YYYY-MM-DD, YYYY-MM or YYYY, '~' first if inferred)"
        )
    year, month, day = m.group(1), m.group(2) or "01", m.group(3) or "01"
    return f"{year}-{month}-{day}"


def read_dates(tables: Iterable[Path] | None = None) -> dict[str, str | None]:
    """article id -> sortable date (None when the table leaves it empty), from every table that exists."""
    out: dict[str, str | None] = {}
    for table in paths.article_tables() if tables is None else tables:
        if not Path(table).is_file():
            continue
        with Path(table).open(encoding="utf-8", newline="") as fh:
            for line, row in enumerate(csv.DictReader(fh, delimiter="\t"), 2):
                if "article" not in row or "date" not in row:
                    raise StanceError(f"{table}: needs the columns 'article' and 'date'")
                out[row["article"]] = date_key(row["date"] or "", f"{table}:{line} ({row['article']})")
    return out


def dates_hash(tables: Iterable[Path] | None = None) -> str:
    """Hash of the article tables: a built dataset's split is stale when it changes."""
    digest = hashlib.sha256()
    for table in paths.article_tables() if tables is None else tables:
        digest.update(Path(table).read_bytes() if Path(table).is_file() else b"-")
    return digest.hexdigest()[:12]


def split(articles: Iterable[str], dates: dict[str, str | None], share: float = TEST_SHARE) -> TimeSplit:
    """Whole articles: the newest dates until at least ``share`` of ``articles`` are in test."""
    if not 0 < share < 1:
        raise StanceError(f"the time split's test share must be between 0 and 1 (got {share})")
    names = sorted(set(articles))
    dated = {a: dates[a] for a in names if dates.get(a)}
    undated = tuple(a for a in names if a not in dated)
    if not dated:
        return TimeSplit(frozenset(names), frozenset(), None, undated)
    want = share * len(names)
    test: set[str] = set()
    cutoff = None
    for day in sorted(set(dated.values()), reverse=True):
        if len(test) >= want:
            break
        test |= {a for a, d in dated.items() if d == day}
        cutoff = day
    train = frozenset(names) - test
    if not train:
        raise StanceError(
            f"the time split leaves nothing to train on: the newest date holds all {len(names)} articles"
        )
    return TimeSplit(train, frozenset(test), cutoff, undated)


def rolling_blocks(
    train: Iterable[str], test: Iterable[str], dates: dict[str, str | None], n: int = ROLLING_BLOCKS
) -> list[tuple[set[str], set[str]]]:
    """The time split (``train``, ``test``) and up to ``n - 1`` older blocks, newest first.

    Each older block holds the newest whole dates left among the dated training articles until it
    has at least as many articles as the time split's test set, and trains on the dated articles
    older than it: the undated articles, which the time split trains on, are left out there, since
    one may be newer than the block. A block is formed only while what is older is at least as
    large as the block, so a small dataset gets fewer blocks, never a model fitted on a handful.
    """
    first = (set(train), set(test))
    want = len(first[1])
    left = {a: dates[a] for a in first[0] if dates.get(a)}
    out = [first]
    while want and len(out) < n:
        block: set[str] = set()
        for day in sorted(set(left.values()), reverse=True):
            if len(block) >= want:
                break
            block |= {a for a, d in left.items() if d == day}
        rest = {a: d for a, d in left.items() if a not in block}
        if len(block) < want or len(rest) < len(block):
            break
        out.append((set(rest), block))
        left = rest
    return out


def evaluate_rolling(make_model, data, first_rows: list[dict], scheme, n: int = ROLLING_BLOCKS):
    """The older blocks of :func:`rolling_blocks` on ``data`` (train and test together), each fitted
    with a fresh ``make_model()``, pooled with the time split's rows (``first_rows``, block 1):
    (``rolling_*`` figures with intervals by article, every row with its ``block``). Empty when the
    data allows no older block."""
    from datasets import DatasetDict

    test = {r["article"] for r in first_rows}
    articles = list(data["article"])
    dates = {a: d or None for a, d in zip(articles, data["date"], strict=True)}
    cuts = rolling_blocks(set(articles) - test, test, dates, n)[1:]
    if not cuts:
        return {}, []
    rows = [r | {"block": 1} for r in first_rows]
    for block, (train, held) in enumerate(cuts, 2):
        pick = lambda names: data.select([i for i, a in enumerate(articles) if a in names])  # noqa: E731
        _, part = evaluate(make_model(), DatasetDict(train=pick(train), test=pick(held)), scheme)
        rows += [r | {"block": block} for r in part]
    return row_figures("rolling", rows, scheme) | {"rolling_blocks": float(len(cuts) + 1)}, rows


def row_ids(rows: list[dict], scheme):
    """Prediction rows (``true`` and ``predicted`` (actor, stance) names) as
    (articles, true actor ids, true stance ids, predicted actor ids, predicted stance ids)."""
    import numpy as np

    a, s = scheme.actor_labels, scheme.stance_labels
    return (
        [r["article"] for r in rows],
        np.array([a.index(r["true"][0]) for r in rows]),
        np.array([s.index(r["true"][1]) for r in rows]),
        np.array([a.index(r["predicted"][0]) for r in rows]),
        np.array([s.index(r["predicted"][1]) for r in rows]),
    )


def row_figures(prefix: str, rows: list[dict], scheme) -> dict[str, float]:
    """``intervals.figures`` (``{prefix}_*``, with intervals by article) of prediction rows."""
    from training import intervals

    return intervals.figures(
        prefix, *row_ids(rows, scheme), len(scheme.stance_labels), scheme.labels.none_stance_id
    )


def evaluate(model, dd, scheme) -> tuple[dict[str, float], list[dict]]:
    """Fit ``model`` (unfitted) on ``dd["train"]``, score ``dd["test"]``: (``time_*`` metrics, per-sentence rows).

    Empty results when the dataset has no time split (no dated article). The rows
    (sentence, article, true and predicted labels, both facets' probabilities) let two runs
    on the same test set be compared sentence by sentence (training/champion.py).
    """
    import numpy as np

    from training import intervals
    from training.evaluate import contexts_of, dates_of, metrics, predicted_ids

    train, test = dd["train"], dd["test"]
    if len(test) == 0 or len(train) == 0:
        return {}, []
    # each sentence with its preceding sentences, as predict reads it (the holder of "He said ...")
    model.fit(
        list(train["text"]),
        np.array(train["actor"]),
        np.array(train["stance"]),
        groups=list(train["article"]),
        contexts=contexts_of(train),
        dates=dates_of(train),
    )
    actor_p, stance_p = model.predict_proba(list(test["text"]), contexts=contexts_of(test))
    actors, stances = np.array(test["actor"]), np.array(test["stance"])
    a_pred, s_pred = predicted_ids(actor_p, stance_p, scheme)
    none = scheme.labels.none_stance_id
    out = {f"time_{k}": v for k, v in metrics(actors, stances, actor_p, stance_p, scheme).items()}
    out |= intervals.figures(
        "time", test["article"], actors, stances, a_pred, s_pred, len(scheme.stance_labels), none
    )
    ids, names, dates = list(test["sentence_id"]), list(test["article"]), list(test["date"])
    rows = [
        {
            "sentence_id": ids[i],
            "article": names[i],
            "date": dates[i],
            "true": [scheme.actor_labels[actors[i]], scheme.stance_labels[stances[i]]],
            "predicted": [scheme.actor_labels[a_pred[i]], scheme.stance_labels[s_pred[i]]],
            "actor_p": {k: round(float(v), 6) for k, v in zip(scheme.actor_labels, actor_p[i], strict=True)},
            "stance_p": {
                k: round(float(v), 6) for k, v in zip(scheme.stance_labels, stance_p[i], strict=True)
            },
        }
        for i in range(len(test))
    ]
    return out, rows
