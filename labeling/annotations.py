"""Annotations: per-annotator labels in, one resolved record per sentence out.

Two formats, both JSONL and documented in the README (*Annotation formats*):

* **raw annotations**: one line per sentence per annotator, as the corpus ships
  them and as our own labeling passes are written
  (``article, start, end, text, annotator, pairs, ground_truth``);
* **snapshot**: one line per sentence of *our* segmenter, carrying every
  annotator's pairs and the resolved pairs. Snapshots are written atomically,
  named by their content hash (the data version), and committed. The Label
  Studio ``pull`` writes the same format.

This module reads raw files and runs ``stance import-annotations``; a sentence's records and
their resolution are in labeling/records.py, agreement in labeling/agreement.py, snapshots
in labeling/snapshot.py.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import typer

from labeling.agreement import agreement
from labeling.articles import ARTICLE_SUFFIXES, Article, read_article
from labeling.raw_line import RawLine
from labeling.records import Annotation, Record, parse_pairs, resolve, resolved_in_words
from labeling.segment import segment
from labeling.snapshot import data_version, write_snapshot
from stance import paths
from stance.console import counted
from stance.errors import StanceError
from stance.io import read_jsonl
from stance.scheme import Scheme


# -- import of raw annotation files -------------------------------------------------------
def article_folders_listed() -> str:
    """The folders an article id is looked up in, for a message: "seeds, corpus/articles, …"."""
    return ", ".join(str(f) for f in paths.article_folders())


def find_article(article_id: str) -> Path:
    """The file of an article id in the article folders: ``<id>.txt``, or a saved page or a PDF of
    that name (``ARTICLE_SUFFIXES``, in that order), so an article pushed as a PDF is pulled."""
    for folder in paths.article_folders():
        for suffix in ARTICLE_SUFFIXES:
            candidate = folder / f"{article_id}{suffix}"
            if candidate.is_file():
                return candidate
    raise StanceError(f"article '{article_id}' not found in {article_folders_listed()}")


def project_article_text(article_id: str) -> tuple[Path, str] | None:
    """The article file of this id in the article folders and its text; None when there is none
    (what `pull` reads a sentence's text from, checked by push and pull alike)."""
    try:
        found = find_article(article_id)
    except StanceError:
        return None
    return found, read_article(found).text


@dataclass
class RawUnit:
    """Annotations of one span in the annotators' own sentence boundaries."""

    article: str
    start: int
    end: int
    annotations: list[Annotation] = field(default_factory=list)


def read_raw(path: Path, scheme: Scheme, articles: dict[str, Article]) -> list[RawUnit]:
    """Raw per-annotator lines, checked against the scheme and the article text."""
    units: dict[tuple[str, int, int], RawUnit] = {}
    for n, row in read_jsonl(path):
        where = f"{path}:{n}"
        line = RawLine.parse(row, where)
        art = line.article
        if art not in articles:
            try:
                articles[art] = read_article(find_article(art))
            except StanceError as exc:
                raise StanceError(f"{where}: {exc}") from None
        if articles[art].text[line.start : line.end] != line.text:
            raise StanceError(f"{where}: text does not match article {art} at {line.start}:{line.end}")
        key = (art, line.start, line.end)
        unit = units.setdefault(key, RawUnit(*key))
        if any(a.annotator == line.annotator for a in unit.annotations):
            raise StanceError(f"{where}: annotator '{line.annotator}' labeled this sentence twice")
        pairs = parse_pairs([p.model_dump() for p in line.pairs], scheme, f"{where} ({art})")
        unit.annotations.append(Annotation(line.annotator, pairs, line.ground_truth))
    if not units:
        raise StanceError(f"{path}: holds no annotations")
    return list(units.values())


def align(units: list[RawUnit], articles: dict[str, Article]) -> tuple[list[Record], list[RawUnit]]:
    """Carry raw annotations onto our segmenter's sentences, by character offsets.

    A sentence takes the annotations of the raw span that covers most of it (at
    least half). Returns the records and the raw spans no sentence took
    (typically lines our segmenter drops as page furniture).
    """
    by_article: dict[str, list[RawUnit]] = defaultdict(list)
    for u in units:
        by_article[u.article].append(u)
    records, used = [], set()
    for art, spans in by_article.items():
        for s in segment(articles[art]):
            best, best_overlap = None, 0
            for u in spans:
                overlap = min(s.end, u.end) - max(s.start, u.start)
                if overlap > best_overlap:
                    best, best_overlap = u, overlap
            if best is None or best_overlap * 2 < (s.end - s.start):
                continue
            used.add(id(best))
            records.append(Record(s, list(best.annotations)))
    return records, [u for u in units if id(u) not in used]


# -- command -----------------------------------------------------------------------
STUDIO_PREFIX = "studio-"  # raw files written by `stance labeling pull`, one per Label Studio project


def studio_raw_file(project: str) -> Path:
    """The raw annotation file `pull` writes for a Label Studio project."""
    slug = "".join(c if c.isalnum() or c in "-_" else "-" for c in project).strip("-") or "project"
    return paths.raw_annotations() / f"{STUDIO_PREFIX}{slug}.jsonl"


def default_raw_files() -> list[Path]:
    """The project's labeled data: the seeds' passes, the corpus, then every pulled Label Studio project."""
    pulled = sorted(
        p
        for p in paths.raw_annotations().glob(f"{STUDIO_PREFIX}*.jsonl")
        if not p.name.endswith(".order.jsonl")
    )
    return [paths.raw_annotations() / "seeds.jsonl", paths.corpus() / "annotations.jsonl", *pulled]


def with_defaults(raw_files: list[Path] | None) -> list[Path]:
    """The given files added to the project's own, so importing one file never drops the others;
    a file given twice (``mine.jsonl ./mine.jsonl``) is read once."""
    files = default_raw_files()
    known = {f.resolve() for f in files}
    for f in raw_files or []:
        if Path(f).resolve() not in known:
            files.append(f)
            known.add(Path(f).resolve())
    return files


def _refuse_labeled_elsewhere(path: Path, aligned: list[Record], source: dict[str, Path]) -> None:
    """A sentence's labels come from one raw file (a pulled one excepted): name the file that
    already labels this file's sentences, and how many."""
    twice = [r.sentence.sentence_id for r in aligned if r.sentence.sentence_id in source]
    if twice:
        raise StanceError(
            f"{path}: {counted(len(twice), 'sentence')} of it {'is' if len(twice) == 1 else 'are'} labeled in "
            f"{source[twice[0]]} too ({twice[0]}{', the first' if len(twice) > 1 else ''}): a sentence's labels "
            f"come from one raw file (a pulled {STUDIO_PREFIX}*.jsonl excepted): drop "
            f"{'it' if len(twice) == 1 else 'them'} from one of the two files; nothing was written"
        )


def import_annotations(raw_files: list[Path], scheme: Scheme, folder: Path | None = None) -> dict:
    """Raw files -> one snapshot; returns a report of what was done.

    A sentence annotated in two files is an error, except that a pulled Label Studio file
    (``studio-*.jsonl``) wins over the seeds and the corpus: the server holds the newer labels.
    A sentence of two pulled files keeps the annotations of both (an annotator in both: the
    later file's).
    """
    from labeling.rules import blocking_error, check_rows, load_rules

    rules = load_rules(scheme)
    articles: dict[str, Article] = {}
    by_id: dict[str, Record] = {}
    pulled: set[str] = set()  # sentences a pulled Label Studio file labeled
    source: dict[str, Path] = {}  # the raw file each sentence's labels came from
    report = {"sources": {}, "checks": []}
    for path in raw_files:
        units = read_raw(path, scheme, articles)  # every field's type checked first
        violations = check_rows(rules, (row for _, row in read_jsonl(path)), scheme.none)
        if err := blocking_error(violations, str(path)):
            raise err
        report["checks"] += [v.line() for v in violations]
        aligned, unaligned = align(units, articles)
        studio = Path(path).name.startswith(STUDIO_PREFIX)
        if not studio:
            _refuse_labeled_elsewhere(path, aligned, source)
        for r in aligned:
            sid = r.sentence.sentence_id
            source[sid] = path
            if sid in pulled:
                # labeled in two pulled projects (an article pushed again to another project):
                # every annotator's label counts, so a reviewer's decision in either decides
                names = {a.annotator for a in r.annotations}
                r.annotations = [
                    a for a in by_id[sid].annotations if a.annotator not in names
                ] + r.annotations
            r.pairs, r.resolved_by = resolve(r.annotations)
            by_id[sid] = r
            if studio:
                pulled.add(sid)
        report["sources"][str(path)] = {
            "articles": len({u.article for u in units}),
            "raw_sentences": len(units),
            "sentences": len(aligned),
            "dropped_as_furniture": [articles[u.article].text[u.start : u.end] for u in unaligned],
            "resolved_by": dict(Counter(r.resolved_by for r in aligned)),
            "agreement": agreement([u.annotations for u in units], scheme),
        }
    records = list(by_id.values())
    path, new = write_snapshot(records, folder)
    report.update(snapshot=str(path), new=new, data_version=data_version(path), sentences=len(records))
    report["unresolved"] = [r.sentence.sentence_id for r in records if r.pairs is None]
    return report


def print_checks(console, lines: list[str], show: int = 20) -> None:
    """Codebook-rule violations (configs/rules.yaml) to review, the first ``show`` of them."""
    if not lines:
        return
    console.print(f"[yellow]codebook checks: {len(lines)} label(s) to review[/yellow]")
    for line in lines[:show]:
        console.print(f"  {line}")
    if len(lines) > show:
        console.print(f"  … and {len(lines) - show} more (`stance labeling check` lists them all)")


def cli(
    raw_files: Annotated[
        list[Path] | None,
        typer.Argument(
            help="More raw annotation JSONL files, added to the project's own (the seeds' passes, the corpus "
            "and every pulled Label Studio project in labeling/raw/)."
        ),
    ] = None,
) -> None:
    """Import raw annotations into a content-hashed snapshot and report agreement."""
    from rich.table import Table

    from stance.console import console as stance_console

    report = import_annotations(with_defaults(raw_files), Scheme.load())
    table = Table(title="annotations imported")
    for col in ("source", "articles", "sentences", "resolved by", "κ/α actor", "κ/α stance"):
        table.add_column(col)
    for src, s in report["sources"].items():
        ag = s["agreement"]
        table.add_row(
            Path(src).parent.name + "/" + Path(src).name,
            str(s["articles"]),
            str(s["sentences"]),
            resolved_in_words(dict(sorted(s["resolved_by"].items()))),
            *(f"{ag[f]['value']:.3f}" if f in ag else "-" for f in ("actor", "stance")),
        )
    console = stance_console()
    console.print(table)
    for src, s in report["sources"].items():
        for text in s["dropped_as_furniture"]:
            console.print(f"  dropped by the segmenter ({Path(src).name}): {text!r}")
    print_checks(console, report["checks"])
    if report["unresolved"]:
        console.print(f"[yellow]unresolved conflicts ({len(report['unresolved'])}):[/yellow]")
        for sid in report["unresolved"]:
            console.print(f"  {sid}")
    state = "written" if report["new"] else "unchanged (already there)"
    console.print(f"snapshot {report['snapshot']} {state}; data version {report['data_version']}")


if __name__ == "__main__":
    from stance.runner import run

    run(cli)
