"""Sentence files for predict: one sentence a line, or JSONL rows naming their article."""

from __future__ import annotations

from pathlib import Path

from labeling.articles import MAX_ARTICLE_BYTES, content_id, html_to_text, looks_like_html, read_stdin_bytes
from labeling.segment import Sentence
from stance.errors import StanceError
from stance.io import decode_text, jsonl_records, read_bytes

STDIN = "-"
PROFILE = "profile"  # the kind of predict's JSONL line that sums an article up

MAX_SENTENCES_BYTES = 100_000_000  # a sentences file is many articles' worth; each line is capped instead


def read_sentences_file(path: Path) -> list[Sentence]:
    """One sentence per line, or JSONL with a ``text`` field (and optional ``article``, ``sentence_id``);
    predict's own JSONL too, its ``"kind": "profile"`` lines passed over, to score it with another model.

    ``-`` reads standard input; its plain lines' article id is made from their text, as
    ``stance predict -`` names a piped article.
    """
    path = Path(path)
    piped = str(path) == STDIN
    where = "standard input" if piped else str(path)
    data = (
        read_stdin_bytes("--sentences -: nothing is piped to standard input")
        if piped
        else read_bytes(path, "an article file")
    )
    if len(data) > MAX_SENTENCES_BYTES:
        raise StanceError(
            f"{where}: too large for one sentences file ({len(data) / 1e6:.1f} MB; the limit is "
            f"{MAX_SENTENCES_BYTES / 1e6:.0f} MB) - split it"
        )
    text = decode_text(data, where, "article text")
    if path.suffix.lower() in {".html", ".htm"} or looks_like_html(text):
        text = html_to_text(text)  # a page of sentences: its text, one block a line
        if not text.strip():
            raise StanceError(f"{where}: has no text outside its markup")
    lines = text.splitlines()
    if not text.strip():
        raise StanceError(f"{where}: is empty")
    for n, line in enumerate(lines, 1):
        check_sentence_size(line, f"{where}:{n}")
    article = content_id(text) if piped else path.stem
    first = next(line for line in lines if line.strip())
    if first.lstrip().startswith("{"):
        rows = jsonl_records(
            text, where
        )  # predict's own JSONL, to score again: its profile lines are no sentences
        return [_sentence_row(where, article, n, row) for n, row in rows if row.get("kind") != PROFILE]
    return [
        Sentence(article, f"{article}:{n}", None, None, line.strip())
        for n, line in enumerate(lines, 1)
        if line.strip()
    ]


def check_sentence_size(text: str, where: str) -> None:
    """One sentence is at most what a whole article may be (``MAX_ARTICLE_BYTES``)."""
    if len(text.encode()) > MAX_ARTICLE_BYTES:
        raise StanceError(
            f"{where}: too long for one sentence ({len(text.encode()) / 1e6:.1f} MB; "
            f"the limit is {MAX_ARTICLE_BYTES / 1e6:.0f} MB, as for a whole article)"
        )


def _sentence_row(where: str, article: str, n: int, row: dict) -> Sentence:
    text = row.get("text")
    if not isinstance(text, str) or not text.strip():
        raise StanceError(f"{where}:{n}: needs a non-empty 'text' field")
    for key in ("article", "sentence_id"):
        if row.get(key) is not None and not isinstance(row[key], str | int):
            raise StanceError(f"{where}:{n}: '{key}' must be a string (got {row[key]!r})")
    art = str(row["article"]) if row.get("article") is not None else article
    sid = str(row["sentence_id"]) if row.get("sentence_id") is not None else f"{art}:{n}"
    return Sentence(art, sid, None, None, text)


def by_article(sentences: list[Sentence]) -> list[list[Sentence]]:
    """Sentences grouped by their article, articles in order of first appearance."""
    groups: dict[str, list[Sentence]] = {}
    for s in sentences:
        groups.setdefault(s.article, []).append(s)
    return list(groups.values())
