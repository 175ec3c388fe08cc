"""Snapshots: one line per sentence of our segmenter, named by their content hash (the data version).

Written atomically and committed; ``LATEST`` names the current one. The Label Studio ``pull``
writes the same format (see labeling/annotations.py for both formats).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from labeling.records import Annotation, Record, parse_pairs
from labeling.segment import Sentence
from stance import paths
from stance.errors import StanceError
from stance.io import dumps_jsonl, jsonl_lines, read_jsonl, read_text, write_atomic
from stance.scheme import Scheme

SNAPSHOT_PREFIX = "annotations-"
LATEST = "LATEST"


# -- snapshots -----------------------------------------------------------------------
def snapshot_text(records: list[Record]) -> str:
    ordered = sorted(records, key=lambda r: (r.sentence.article, r.sentence.start))
    return dumps_jsonl(r.to_dict() for r in ordered)


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def write_snapshot(records: list[Record], folder: Path | None = None) -> tuple[Path, bool]:
    """Write the snapshot named by its content hash; (path, whether it is new)."""
    folder = folder or paths.snapshots()
    text = snapshot_text(records)
    path = folder / f"{SNAPSHOT_PREFIX}{content_hash(text)}.jsonl"
    new = not path.exists()
    if new:
        write_atomic(path, text)
    if latest_snapshot(folder, required=False) != path:
        write_atomic(folder / LATEST, path.name + "\n")
    return path, new


def latest_snapshot(folder: Path | None = None, required: bool = True) -> Path | None:
    folder = folder or paths.snapshots()
    pointer = folder / LATEST
    if pointer.is_file():
        path = folder / pointer.read_text().strip()
        if path.is_file():
            return path
    if required:
        raise StanceError(f"no annotation snapshot in {folder}; run `stance import-annotations` first")
    return None


def data_version(snapshot: Path) -> str:
    """The data version: the snapshot's content hash (checked, not trusted from the name). Its
    line endings are not content: a copy with CRLF ones (Git for Windows checks files out so by
    default) is the same data, as one with a byte-order mark is."""
    return content_hash("\n".join(jsonl_lines(read_text(snapshot))))


def load_snapshot(path: Path, scheme: Scheme) -> list[Record]:
    """Records of a snapshot, every label checked against the scheme."""
    records = []
    for n, row in read_jsonl(path):
        where = f"{path}:{n} ({row.get('sentence_id', '?')})"
        try:
            sentence = Sentence(*(row[k] for k in ("article", "sentence_id", "start", "end", "text")))
            anns = [
                Annotation(a["annotator"], parse_pairs(a["pairs"], scheme, where), a["ground_truth"])
                for a in row["annotations"]
            ]
        except (KeyError, TypeError) as exc:
            raise StanceError(f"{where}: not a snapshot record (missing {exc})") from None
        pairs = None if row["pairs"] is None else parse_pairs(row["pairs"], scheme, where)
        records.append(Record(sentence, anns, pairs, row["resolved_by"]))
    if not records:
        raise StanceError(f"{path}: the snapshot holds no sentences")
    return records
