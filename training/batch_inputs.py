"""The inputs of ``stance score-batch``: a folder of articles (with its ``articles.tsv``) read and
segmented with the one segmenter, a JSONL/Parquet file of sentences, or a Parquet dataset (a folder
of Parquet files, partitioned or not: a Spark job's output, or score-batch's own ``sentences/``),
each row with its context (the article's sentences before it, as predict reads them). Shared by the
local engine and the Spark job (training/spark_job.py), whose executors call :func:`segment_rows`.
"""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

from labeling.articles import ARTICLE_SUFFIXES
from stance.errors import StanceError
from training.context import contexts

META = ("date", "outlet", "url", "headline")
UNDATED = "undated"  # the date partition of articles without a date (read back as no date)
DATE_GIVEN = "date_given"  # score-batch's column of each article's date as its metadata wrote it


def articles_folder(folder: Path) -> Path:
    """Where a folder's articles are: its ``articles/`` folder where it has one, else itself."""
    return folder / "articles" if (folder / "articles").is_dir() else folder


def other_files(where: Path) -> list[dict]:
    """The files beside the articles that are neither articles nor metadata (a page saved as
    ``.md``, a ``.pdf``), each as ``{"file", "error"}``: passed over as an unreadable article is,
    and named, so an article saved under another suffix is not left out without a word."""
    return [
        {
            "file": str(p),
            "error": f"{p}: not an article file (only .txt, .html, .htm and .pdf files are read)",
        }
        for p in sorted(where.iterdir())
        if p.is_file()
        and p.suffix.lower() not in {*ARTICLE_SUFFIXES, ".tsv"}
        and not p.name.startswith((".", "_"))
    ]


def is_parquet_dataset(path: Path) -> bool:
    """A folder of Parquet files (at any depth: ``date=…/part-….parquet``) and no articles."""
    if not path.is_dir():
        return False
    where = articles_folder(path)
    if any(p.is_file() and p.suffix.lower() in ARTICLE_SUFFIXES for p in where.iterdir()):
        return False
    return any(parquet_parts(path))


def parquet_parts(path: Path) -> list[Path]:
    """A Parquet input's files: the file itself, or a dataset folder's data files (not the
    ``_SUCCESS`` markers or hidden files that Spark and Hadoop leave beside them)."""
    if path.is_file():
        return [path]
    hidden = lambda p: any(part.startswith((".", "_")) for part in p.relative_to(path).parts)  # noqa: E731
    return sorted(p for p in path.rglob("*.parquet") if p.is_file() and not hidden(p))


def article_files(folder: Path) -> tuple[list[Path], dict[str, dict]]:
    """The article files of a folder and, from its ``articles.tsv``, each article's metadata."""
    where = articles_folder(folder)
    files = sorted(p for p in where.iterdir() if p.is_file() and p.suffix.lower() in ARTICLE_SUFFIXES)
    if not files:
        raise StanceError(f"{folder}: no article files (.txt, .html, .pdf) in it or in its articles/ folder")
    check_one_file_per_article(files)
    meta: dict[str, dict] = {}
    tsv = folder / "articles.tsv"
    if tsv.is_file():
        with tsv.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh, delimiter="\t"):
                meta[row["article"]] = {k: (row.get(k) or None) for k in META}
    return files, meta


def check_one_file_per_article(files: list[Path]) -> None:
    """An article is named by its file name without the suffix: ``x.txt`` and ``x.html`` beside each
    other would be two articles of one id, whose sentence ids, contexts and counts would mix."""
    seen: dict[str, Path] = {}
    for f in files:
        if f.stem in seen:
            raise StanceError(
                f"{f.parent}: {seen[f.stem].name} and {f.name} are both article '{f.stem}' (an article is "
                "named by its file name without the suffix): keep one, or rename the other; nothing written"
            )
        seen[f.stem] = f


def sentence_frame(path: Path):
    """A JSONL or Parquet file of sentences as a pandas frame (predict's ids when none are given)."""
    import pandas as pd

    from training.predict import read_sentences_file

    if path.suffix.lower() == ".parquet" or is_parquet_dataset(path):
        check_parquet(path)
        frame = pd.read_parquet(path)  # a dataset's hive partitions (date=…) come back as columns
        text = frame["text"]
        check_texts(path, None, int((text.isna() | (text.fillna("").str.strip() == "")).sum()))
        if "article" not in frame.columns:
            frame["article"] = path.stem
        if "sentence_id" not in frame.columns:
            frame["sentence_id"] = [f"{a}:{n}" for n, a in enumerate(frame["article"], 1)]
        if DATE_GIVEN in frame.columns:  # score-batch's own rows: the date as given, not its day
            frame["date"] = frame[DATE_GIVEN]
        for key in (k for k in META if k in frame.columns):
            frame[key] = [
                None if pd.isna(v) or (key == "date" and v == UNDATED) else str(v) for v in frame[key]
            ]
        if "start" in frame.columns and frame["start"].notna().all():
            # each article's sentences in text order, however a dataset's files were split
            frame = frame.sort_values(["article", "start"], kind="stable").reset_index(drop=True)
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
    column is missing or not text, in one line, from its footer alone (each file's, in a dataset
    folder), before either engine reads it (both name a column's type as Parquet's schema does:
    ``int64``, ``double``)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    for part in parquet_parts(path):
        try:
            schema = pq.read_metadata(part).schema.to_arrow_schema()
        except (pa.ArrowException, OSError) as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise StanceError(f"{part}: not a readable Parquet file ({reason})") from None
        if "text" not in schema.names:
            raise StanceError(f"{part}: needs a 'text' column")
        kind = schema.field("text").type
        if not (pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_null(kind)):
            check_texts(part, str(kind), 0)


def check_one_a_line(path: Path, sample: int = 200) -> None:
    """A plain-text file of sentences is one sentence a line. An article saved as text (a paragraph
    a line) would be scored a paragraph a row, its profile counting paragraphs: refused when more than
    one in twenty of its first ``sample`` lines holds several sentences by the project's segmenter."""
    from labeling.articles import Article, html_to_text, looks_like_html
    from labeling.segment import segment

    with path.open("rb") as f:
        data = f.read(1 << 20)
    try:
        head = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(data) - 4:  # not UTF-8 at all: the reader's own error names the byte
            return
        head = data[: exc.start].decode("utf-8")  # a character cut at the 1 MB mark
    if "\x00" in head:  # binary: the reader's own error
        return
    if looks_like_html(head):  # a page is read one block a line, as the reader reads it
        head = html_to_text(head)
    lines = [line for line in head.splitlines() if line.strip()][:sample]
    if not lines or lines[0].lstrip().startswith("{"):  # JSONL: one sentence a row by its format
        return
    several = sum(len(segment(Article("line", line))) > 1 for line in lines)
    if several * 20 > len(lines):  # none of the 2,466 labeled sentences splits again; 73 % of articles do
        raise StanceError(
            f"{path}: reads as an article, not one sentence a line (more than one sentence on {several} of "
            f"its first {len(lines)} lines): put it in a folder of articles, or score it with `stance predict`"
        )


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


def segment_rows(
    paths: list[str], meta: dict[str, dict], skipped: list[dict] | None = None, words: dict | None = None
) -> list[dict]:
    """Read and segment articles with the one segmenter: one row per sentence with its metadata.

    A file that is not an article (empty, binary, too large, markup with no text) is refused, or,
    given a ``skipped`` list, noted there as ``{"file", "error"}`` and passed over. Given a
    ``words`` dict, each article read is entered there with :func:`words_key` of its text, so that
    the caller can find the files that repeat another's (:func:`repeats`) without reading them again."""
    from labeling.articles import read_or_note
    from labeling.segment import segment

    rows = []
    for path in paths:
        article = read_or_note(Path(path), skipped)
        if article is None:
            continue
        if words is not None:
            words[article.id] = words_key(article.text)
        info = meta.get(article.id, {})
        sentences = segment(article)
        before = contexts([s.article for s in sentences], [s.text for s in sentences])
        for s, context in zip(sentences, before, strict=True):
            rows.append({**s.to_dict(), **{k: info.get(k) for k in META}, "context": context})
    return rows


# -- an article saved twice ---------------------------------------------------------------
def words_key(text: str) -> str:
    """An article's text read as words (``page.html`` and its ``.txt`` alike), as a short key that
    Spark's executors can send back in place of the text."""
    return hashlib.sha256(" ".join(text.split()).encode("utf-8")).hexdigest()


def repeats(keys: list[tuple[str, str]], listed=frozenset()) -> dict[str, str]:
    """Of ``(article, words_key)`` pairs in file order, each article whose words are another's (a
    story saved again from the browser as ``page.html``), with the article it repeats: counted
    twice, its sentences, flags and outlet would be. A copy the metadata lists as an article of its
    own (``listed``: a wire story two outlets ran) is kept: two publications, each with its outlet
    and date; an unlisted copy repeats the first listed one, wherever the two sort."""
    first: dict[str, str] = {}  # a text's key -> the article kept for it: the first listed, else the first
    for article, key in keys:
        if key not in first or (article in listed and first[key] not in listed):
            first[key] = article
    return {a: first[key] for a, key in keys if a != first[key] and a not in listed}


def repeat_note(path: Path | str, same_as: str) -> dict:
    """A file passed over as a copy, as ``skipped`` lists it (``same_as``: the article it repeats)."""
    return {
        "file": str(path),
        "error": f"the same text as {same_as}: passed over, so it is not counted twice",
        "same_as": same_as,
    }


def note_repeats(files: list[Path], words: dict[str, str], listed, skipped: list[dict]) -> set[str]:
    """The articles of a folder's ``files`` (in order) that :func:`repeats` finds by their ``words``
    (each article read: its :func:`words_key`), each noted in ``skipped`` with the article it
    repeats, for the caller to pass over: the report and both engines of score-batch alike."""
    path_of = {f.stem: f for f in files}
    found = repeats([(f.stem, words[f.stem]) for f in files if f.stem in words], listed)
    skipped += [repeat_note(path_of[a], same_as) for a, same_as in found.items()]
    return set(found)


def drop_repeats(articles: list, files: list[Path], skipped: list[dict], listed=frozenset()) -> list:
    """The articles read from ``files`` less the copies :func:`note_repeats` notes in ``skipped``."""
    copies = note_repeats(files, {a.id: words_key(a.text) for a in articles}, listed, skipped)
    return [a for a in articles if a.id not in copies]
