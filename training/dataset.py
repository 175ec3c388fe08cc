"""Annotation snapshot -> ``datasets.DatasetDict``, grouped by article.

The dataset version is the snapshot's content hash. The label features are
``ClassLabel``s built from the scheme. No article ever has sentences on both
sides of a split: the ``test`` split is the time split's test set (the newest
labeled articles by date, whole: training/timesplit.py), ``train`` the older and
undated ones, and cross-validation folds (over both) are grouped by article.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from labeling.snapshot import data_version, latest_snapshot, load_snapshot
from stance import paths
from stance.errors import StanceError
from stance.io import write_atomic
from stance.scheme import Scheme
from training import context, timesplit

# the columns' version: a dataset built with other columns (or context length) is rebuilt
LAYOUT = f"2:context-{context.CONTEXT_SENTENCES}"


def features(scheme: Scheme):
    from datasets import ClassLabel, Features, List, Value

    actor = ClassLabel(names=scheme.actor_labels)
    stance = ClassLabel(names=scheme.stance_labels)
    return Features(
        {
            "sentence_id": Value("string"),
            "article": Value("string"),
            "start": Value("int32"),
            "end": Value("int32"),
            "text": Value("string"),
            "prev_text": Value("string"),  # the sentence before, in the same article ("" if none)
            "next_text": Value("string"),
            "context": Value("string"),  # the preceding sentences the model reads (training/context.py)
            "actor": actor,  # the primary pair's actor; "none" when there is no pair
            "stance": stance,
            "pairs": List({"actor": actor, "stance": stance}),  # every pair, primary first
            "resolved_by": Value("string"),
            "date": Value("string"),  # the article's date (ISO; a month-only date as its 1st), "" if none
        }
    )


def preceding_sentences(records) -> dict[str, list[str]]:
    """Each record's preceding sentences in its article, from the one segmenter.

    The article is re-segmented (so unlabeled sentences count too, as they do in
    predict); an article whose file is not in the project falls back to the labeled
    sentences before it.
    """
    from labeling.annotations import find_article
    from labeling.articles import read_article
    from labeling.segment import segment

    out: dict[str, list[str]] = {}
    by_article: dict[str, list] = {}
    for r in records:
        by_article.setdefault(r.sentence.article, []).append(r.sentence)
    for article, labeled in by_article.items():
        try:
            spans = segment(read_article(find_article(article), article))
        except StanceError:
            spans = labeled
        for s in labeled:
            out[s.sentence_id] = [p.text for p in spans if p.end <= s.start]
    return out


def build(snapshot: Path, scheme: Scheme, share: float = timesplit.TEST_SHARE, dates: dict | None = None):
    """(DatasetDict, TimeSplit): a snapshot's resolved sentences, ``test`` the newest articles."""
    from datasets import Dataset, DatasetDict

    dates = timesplit.read_dates() if dates is None else dates
    records = sorted(load_snapshot(snapshot, scheme), key=lambda r: (r.sentence.article, r.sentence.start))
    before = preceding_sentences(records)
    rows = []
    for i, r in enumerate(records):
        if r.pairs is None:  # unresolved conflicts are listed by the import, never guessed
            continue
        s = r.sentence
        prev = records[i - 1].sentence if i and records[i - 1].sentence.article == s.article else None
        nxt = records[i + 1].sentence if i + 1 < len(records) else None
        primary = scheme.primary(list(r.pairs))
        rows.append(
            {
                "sentence_id": s.sentence_id,
                "article": s.article,
                "start": s.start,
                "end": s.end,
                "text": s.text,
                "prev_text": prev.text if prev else "",
                "next_text": nxt.text if nxt and nxt.article == s.article else "",
                "context": context.join(before[s.sentence_id]),
                "actor": primary.actor,
                "stance": primary.stance,
                "pairs": [p.to_dict() for p in r.pairs],
                "resolved_by": r.resolved_by,
                "date": dates.get(s.article) or "",
            }
        )
    if not rows:
        raise StanceError(f"{snapshot}: no resolved sentences to build a dataset from")
    feats = features(scheme)
    cut = timesplit.split([row["article"] for row in rows], dates, share)  # refuses an empty train side
    if not cut.test:
        n = len({row["article"] for row in rows})
        raise StanceError(
            f"{snapshot}: {len(rows)} resolved sentences in {n} article(s) cannot fill both the train and the "
            "test split (the newest dated articles, whole): none of its articles has a date in an "
            "articles.tsv; add their dates, or label more articles"
        )

    def part(names):
        return Dataset.from_list([row for row in rows if row["article"] in names], features=feats)

    return DatasetDict(train=part(cut.train), test=part(cut.test)), cut


def grouped_folds(dataset, k: int, seed: int):
    """(train indices, test indices) for k folds grouped by article, stratified by stance."""
    import numpy as np
    from sklearn.model_selection import StratifiedGroupKFold

    groups = np.array(dataset["article"])
    if len(set(groups)) < k:
        raise StanceError(f"grouped {k}-fold CV needs at least {k} articles; the data has {len(set(groups))}")
    cv = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
    return list(cv.split(np.zeros(len(groups)), dataset["stance"], groups))


# -- on disk -----------------------------------------------------------------------
def dataset_dir(version: str) -> Path:
    return paths.datasets() / version


def _layout(folder: Path) -> str:
    return json.loads((folder / "meta.json").read_text()).get("layout", "1")


def save(
    snapshot: Path, scheme: Scheme, latest: bool = True, share: float = timesplit.TEST_SHARE
) -> tuple[str, Path, bool]:
    """Build and store the dataset of a snapshot; (version, folder, whether it was built now).

    ``latest`` makes it the dataset that training uses when no version is given. A
    stored dataset whose time split came from other article dates or another share
    is rebuilt (the labels, and so the version, are the same).
    """
    version = data_version(snapshot)
    target = dataset_dir(version)
    split_of = {"test_share": share, "dates_hash": timesplit.dates_hash()}
    if (target / "meta.json").is_file() and _split_key(target) == split_of and _layout(target) == LAYOUT:
        new = False
    else:
        from datasets.utils.logging import disable_progress_bar

        disable_progress_bar()
        dd, cut = build(snapshot, scheme, share)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{version}."))
        try:
            dd.save_to_disk(str(tmp / "data"))
            meta = {
                "data_version": version,
                "layout": LAYOUT,
                "snapshot": Path(snapshot).name,
                "scheme_hash": scheme.hash,
                "rows": {name: len(split) for name, split in dd.items()},
                "articles": {name: len(set(split["article"])) for name, split in dd.items()},
                "time_split": split_of | {
                    "cutoff": cut.cutoff, "test_articles": sorted(cut.test), "undated": list(cut.undated)
                },
            }  # fmt: skip
            (tmp / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
            shutil.rmtree(target, ignore_errors=True)
            tmp.rename(target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        new = True
    if latest:
        write_atomic(paths.datasets() / "LATEST", version + "\n")
    return version, target, new


def _split_key(folder: Path) -> dict:
    split = json.loads((folder / "meta.json").read_text()).get("time_split", {})
    return {"test_share": split.get("test_share"), "dates_hash": split.get("dates_hash")}


def load(version: str | None, scheme: Scheme):
    """(DatasetDict, meta) of a built dataset; the latest built when no version is given."""
    from datasets import load_from_disk

    if version is None:
        pointer = paths.datasets() / "LATEST"
        if not pointer.is_file():
            raise StanceError("no dataset built yet; run `stance build-dataset` first")
        version = pointer.read_text().strip()
    folder = dataset_dir(version)
    if not (folder / "meta.json").is_file():
        raise StanceError(f"dataset version {version} is not built; run `stance build-dataset`")
    meta = json.loads((folder / "meta.json").read_text())
    if meta["scheme_hash"] != scheme.hash:
        raise StanceError(
            f"dataset {version} was built with label scheme {meta['scheme_hash']}, but "
            f"configs/scheme.yaml is {scheme.hash}; rebuild it with `stance build-dataset`"
        )
    if meta.get("layout", "1") != LAYOUT:  # e.g. no `context` column: the holder features would be blind
        raise StanceError(
            f"dataset {version} was built with an older column layout ({meta.get('layout', '1')}, now {LAYOUT}); "
            "rebuild it with `stance build-dataset`"
        )
    return load_from_disk(str(folder / "data")), meta


def behind_latest(snapshot: Path) -> str | None:
    """A note when a snapshot lacks labeled sentences of the latest one (``--snapshot`` named an
    older or a smaller snapshot): the data it builds is what `stance train` then trains on, and a
    model trained on it cannot replace a champion trained on more. None when it lacks none."""
    from stance.io import read_jsonl

    latest = latest_snapshot(required=False)
    if latest is None or not Path(snapshot).is_file() or Path(snapshot).resolve() == latest.resolve():
        return None
    ids = {row["sentence_id"] for _, row in read_jsonl(Path(snapshot))}
    newest = {row["sentence_id"] for _, row in read_jsonl(latest)}
    lacks = len(newest - ids)
    if not lacks:
        return None
    return (
        f"data {data_version(snapshot)} lacks {lacks} of the {len(newest)} labeled sentences of the latest "
        f"snapshot ({data_version(latest)}); `stance train` now trains on it, and its models cannot replace "
        "a champion trained on the latest. `stance build-dataset` with no --snapshot goes back to the latest"
    )


def latest_built_note() -> str | None:
    """`behind_latest` for the dataset `stance train` uses when given no version (None if none is built)."""
    pointer = paths.datasets() / "LATEST"
    if not pointer.is_file():
        return None
    meta_file = dataset_dir(pointer.read_text().strip()) / "meta.json"
    if not meta_file.is_file():
        return None
    return behind_latest(paths.snapshots() / json.loads(meta_file.read_text())["snapshot"])


def cli(
    snapshot: Annotated[Path | None, typer.Option(help="Annotation snapshot [default: the latest].")] = None,
    test_share: Annotated[
        float,
        typer.Option(help="Time split: at least this share of the articles, the newest, is the test set."),
    ] = timesplit.TEST_SHARE,
) -> None:
    """Build the dataset of an annotation snapshot; its version is the snapshot's hash."""
    scheme = Scheme.load()
    snapshot = snapshot or latest_snapshot()
    version, folder, new = save(snapshot, scheme, share=test_share)
    meta = json.loads((folder / "meta.json").read_text())
    state = "built" if new else "already built"
    cutoff = meta["time_split"]["cutoff"]
    test = f"dated {cutoff} or later: the time split" if cutoff else "no article is dated: no time split"
    print(
        f"dataset {version} {state}: {meta['rows']['train']} train sentences "
        f"({meta['articles']['train']} articles, older or undated), {meta['rows']['test']} test sentences "
        f"({meta['articles']['test']} articles {test}) -> {folder}"
    )
    if note := behind_latest(snapshot):
        print(f"note: {note}", file=sys.stderr)


if __name__ == "__main__":
    from stance.runner import run

    run(cli)
