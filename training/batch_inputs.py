"""The inputs of ``stance score-batch``: a folder of articles (with its ``articles.tsv``) read and
segmented with the one segmenter, or a JSONL/Parquet file of sentences, each row with its context
(the article's sentences before it, as predict reads them). Shared by the local engine and the
Spark job (training/spark_job.py), whose executors call :func:`segment_rows`.
"""

from __future__ import annotations

import csv
from pathlib import Path

from stance.errors import StanceError
from training.context import contexts

META = ("date", "outlet", "url", "headline")
ARTICLE_SUFFIXES = {".txt", ".html", ".htm"}


def article_files(folder: Path) -> tuple[list[Path], dict[str, dict]]:
    """The article files of a folder and, from its ``articles.tsv``, each article's metadata."""
    where = folder / "articles" if (folder / "articles").is_dir() else folder
    files = sorted(p for p in where.iterdir() if p.is_file() and p.suffix.lower() in ARTICLE_SUFFIXES)
    if not files:
        raise StanceError(f"{folder}: no article files (.txt, .html) in it or in its articles/ folder")
    meta: dict[str, dict] = {}
    tsv = folder / "articles.tsv"
    if tsv.is_file():
        with tsv.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh, delimiter="\t"):
                meta[row["article"]] = {k: (row.get(k) or None) for k in META}
    return files, meta


def sentence_frame(path: Path):
    """A JSONL or Parquet file of sentences as a pandas frame (predict's ids when none are given)."""
    import pandas as pd

    from training.predict import read_sentences_file

    if path.suffix.lower() == ".parquet":
        check_parquet(path)
        frame = pd.read_parquet(path)
        text = frame["text"]
        check_texts(path, None, int((text.isna() | (text.fillna("").str.strip() == "")).sum()))
        if "article" not in frame.columns:
            frame["article"] = path.stem
        if "sentence_id" not in frame.columns:
            frame["sentence_id"] = [f"{a}:{n}" for n, a in enumerate(frame["article"], 1)]
    else:
        frame = pd.DataFrame([s.__dict__ for s in read_sentences_file(path)])
        extra = _jsonl_meta(path)
        for key in META:
            frame[key] = [row.get(key) for row in extra] if extra else None
    for key in ("start", "end"):
        frame[key] = (
            frame[key].astype("Int64") if key in frame.columns else pd.array([None] * len(frame), "Int64")
        )
    for key in META:
        if key not in frame.columns:
            frame[key] = None
    # rows in file order: each sentence's context is the rows of its article before it, as in predict
    frame["context"] = contexts(frame["article"].astype(str).tolist(), frame["text"].astype(str).tolist())
    return frame[["article", "sentence_id", "start", "end", "text", *META, "context"]]


def check_parquet(path: Path) -> None:
    """Refuse a file that is not Parquet (empty, cut short, another format), or whose ``text``
    column is missing or not text, in one line, from its footer alone, before either engine reads
    it (both name a column's type as Parquet's schema does: ``int64``, ``double``)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
    except (pa.ArrowException, OSError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise StanceError(f"{path}: not a readable Parquet file ({reason})") from None
    if "text" not in schema.names:
        raise StanceError(f"{path}: needs a 'text' column")
    kind = schema.field("text").type
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_null(kind)):
        check_texts(path, str(kind), 0)


def check_texts(path: Path, not_text: str | None, blank: int) -> None:
    """Refuse a Parquet file of sentences whose ``text`` column is not text, or has rows with none
    (null or blank), as ``predict --sentences`` refuses such a JSONL line: both engines alike."""
    if not_text:
        raise StanceError(f"{path}: its 'text' column holds {not_text}, not text")
    if blank:
        raise StanceError(f"{path}: {blank} of its rows have no text (null or blank): drop or fill them")


def _jsonl_meta(path: Path) -> list[dict]:
    from stance.io import read_jsonl

    first = next((line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()), "")
    return [row for _, row in read_jsonl(path)] if first.lstrip().startswith("{") else []


def segment_rows(paths: list[str], meta: dict[str, dict], skipped: list[dict] | None = None) -> list[dict]:
    """Read and segment articles with the one segmenter: one row per sentence with its metadata.

    A file that is not an article (empty, binary, too large, markup with no text) is refused, or,
    given a ``skipped`` list, noted there as ``{"file", "error"}`` and passed over."""
    from labeling.articles import read_or_note
    from labeling.segment import segment

    rows = []
    for path in paths:
        article = read_or_note(Path(path), skipped)
        if article is None:
            continue
        info = meta.get(article.id, {})
        sentences = segment(article)
        before = contexts([s.article for s in sentences], [s.text for s in sentences])
        for s, context in zip(sentences, before, strict=True):
            rows.append({**s.to_dict(), **{k: info.get(k) for k in META}, "context": context})
    return rows
