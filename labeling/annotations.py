"""Annotations: per-annotator labels in, one resolved record per sentence out.

Two formats, both JSONL and documented in labeling/README.md:

* **raw annotations**: one line per sentence per annotator, as the corpus ships
  them and as our own labeling passes are written
  (``article, start, end, text, annotator, pairs, ground_truth``);
* **snapshot**: one line per sentence of *our* segmenter, carrying every
  annotator's pairs and the resolved pairs. Snapshots are written atomically,
  named by their content hash (the data version), and committed. The Label
  Studio ``pull`` writes the same format.

Resolution, per sentence: a ground-truth (reviewer) annotation wins; else the
annotators' agreement on the primary pair; else a strict majority; else the
sentence is *unresolved* (kept, listed, never guessed).
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import typer

from labeling.articles import Article, read_article
from labeling.raw_line import RawLine
from labeling.segment import Sentence, segment
from stance import paths
from stance.errors import StanceError
from stance.io import dumps_jsonl, read_jsonl, read_text, write_atomic
from stance.scheme import Pair, Scheme

SNAPSHOT_PREFIX = "annotations-"
LATEST = "LATEST"


# -- records -----------------------------------------------------------------------
@dataclass(frozen=True)
class Annotation:
    annotator: str
    pairs: tuple[Pair, ...]
    ground_truth: bool = False

    def to_dict(self) -> dict:
        return {
            "annotator": self.annotator,
            "pairs": [p.to_dict() for p in self.pairs],
            "ground_truth": self.ground_truth,
        }


@dataclass
class Record:
    """One sentence with all its annotations and the resolved pairs."""

    sentence: Sentence
    annotations: list[Annotation] = field(default_factory=list)
    pairs: tuple[Pair, ...] | None = None  # None: unresolved
    resolved_by: str = "unresolved"

    def to_dict(self) -> dict:
        return {
            **self.sentence.to_dict(),
            "pairs": None if self.pairs is None else [p.to_dict() for p in self.pairs],
            "resolved_by": self.resolved_by,
            "annotations": [a.to_dict() for a in self.annotations],
        }


def parse_pairs(raw, scheme: Scheme, where: str) -> tuple[Pair, ...]:
    if not isinstance(raw, list):
        raise StanceError(f"{where}: 'pairs' must be a list of {{actor, stance}} objects")
    out = []
    for item in raw:
        if not isinstance(item, dict) or set(item) != {"actor", "stance"}:
            raise StanceError(f"{where}: each pair needs exactly 'actor' and 'stance', got {item!r}")
        out.append(scheme.check_pair(item["actor"], item["stance"], where))
    return tuple(dict.fromkeys(out))  # drop repeats, keep order


# -- resolution ----------------------------------------------------------------------
def resolve(annotations: list[Annotation]) -> tuple[tuple[Pair, ...] | None, str]:
    """The resolved pairs and how they were decided."""
    truth = [a for a in annotations if a.ground_truth]
    if truth:
        return truth[-1].pairs, "ground_truth"
    if not annotations:
        return None, "unresolved"
    if len(annotations) == 1:
        return annotations[0].pairs, "single"
    primaries = Counter(a.pairs[0] if a.pairs else None for a in annotations)
    primary, votes = primaries.most_common(1)[0]
    if votes * 2 <= len(annotations):
        return None, "unresolved"
    how = "agreement" if votes == len(annotations) else "majority"
    if primary is None:
        return (), how
    # secondary pairs: those a majority of annotators gave, in first-seen order
    seen = Counter(p for a in annotations for p in set(a.pairs) if p != primary)
    order = dict.fromkeys(p for a in annotations for p in a.pairs if p != primary)
    secondary = [p for p in order if seen[p] * 2 > len(annotations)]
    return (primary, *secondary), how


# -- agreement -----------------------------------------------------------------------
def agreement(units: list[list[Annotation]], scheme: Scheme) -> dict[str, dict]:
    """Chance-corrected agreement on the primary actor and stance, per facet.

    Cohen's kappa when exactly two annotators labeled every unit, Krippendorff's
    alpha (nominal) otherwise. Reviewer (ground-truth) annotations are left out:
    they are decisions, not independent judgements.
    """
    units = [[a for a in u if not a.ground_truth] for u in units]
    units = [u for u in units if len(u) >= 2]
    annotators = sorted({a.annotator for u in units for a in u})
    out: dict[str, dict] = {}
    if not units:
        return out
    for facet in ("actor", "stance"):

        def label(a: Annotation, facet=facet) -> str:
            p = scheme.primary(list(a.pairs))
            return getattr(p, facet)

        same_two = len(annotators) == 2 and all(len(u) == 2 for u in units)
        if same_two:
            from sklearn.metrics import cohen_kappa_score

            by = [{a.annotator: label(a) for a in u} for u in units]
            value = cohen_kappa_score([b[annotators[0]] for b in by], [b[annotators[1]] for b in by])
            metric = "cohen_kappa"
        else:
            import krippendorff
            import numpy as np

            labels = scheme.actor_labels if facet == "actor" else scheme.stance_labels
            code = {name: i for i, name in enumerate(labels)}
            matrix = np.full((len(annotators), len(units)), np.nan)
            for j, u in enumerate(units):
                for a in u:
                    matrix[annotators.index(a.annotator), j] = code[label(a)]
            if len({label(a) for u in units for a in u}) == 1:
                value = 1.0  # one label throughout: α is undefined (no variation); the raters agree fully
            else:
                value = krippendorff.alpha(reliability_data=matrix, level_of_measurement="nominal")
            metric = "krippendorff_alpha"
        raw_agree = sum(len({label(a) for a in u}) == 1 for u in units) / len(units)
        out[facet] = {
            "metric": metric,
            "value": round(float(value), 4),
            "observed_agreement": round(raw_agree, 4),
            "units": len(units),
            "annotators": annotators,
            "pairwise_kappa": pairwise_kappa(units, label),
        }
    return out


def pairwise_kappa(units: list[list[Annotation]], label) -> dict:
    """Cohen's κ for every two annotators who shared at least 10 sentences, and their mean weighted by those.

    With a team where any two of several annotators label a sentence, this is the κ each pair of
    annotators reached; Krippendorff's α is the one figure over all of them.
    """
    from itertools import combinations

    from sklearn.metrics import cohen_kappa_score

    shared: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    for u in units:
        by = {a.annotator: label(a) for a in u}
        for x, y in combinations(sorted(by), 2):
            shared[(x, y)].append((by[x], by[y]))
    pairs = {}
    for (x, y), labels in sorted(shared.items()):
        if len(labels) >= 10:
            a, b = zip(*labels, strict=True)
            kappa = 1.0 if len(set(a) | set(b)) == 1 else float(cohen_kappa_score(a, b))
            pairs[f"{x}|{y}"] = {"kappa": round(kappa, 4), "units": len(labels)}
    total = sum(p["units"] for p in pairs.values())
    mean = sum(p["kappa"] * p["units"] for p in pairs.values()) / total if total else None
    return {"mean": None if mean is None else round(mean, 4), "pairs": pairs}


# -- import of raw annotation files -------------------------------------------------------
def find_article(article_id: str) -> Path:
    for folder in paths.article_folders():
        candidate = folder / f"{article_id}.txt"
        if candidate.is_file():
            return candidate
    where = ", ".join(str(f) for f in paths.article_folders())
    raise StanceError(f"article '{article_id}' not found in {where}")


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
    """The data version: the snapshot's content hash (checked, not trusted from the name)."""
    return content_hash(read_text(snapshot))


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
    """The given files added to the project's own, so importing one file never drops the others."""
    files = default_raw_files()
    known = {f.resolve() for f in files}
    return files + [f for f in raw_files or [] if Path(f).resolve() not in known]


def import_annotations(raw_files: list[Path], scheme: Scheme, folder: Path | None = None) -> dict:
    """Raw files -> one snapshot; returns a report of what was done.

    A sentence annotated in two files is an error, except that a pulled Label Studio file
    (``studio-*.jsonl``) wins over the files before it: the server holds the newer labels.
    """
    from labeling.rules import blocking_error, check_rows, load_rules

    rules = load_rules(scheme)
    articles: dict[str, Article] = {}
    by_id: dict[str, Record] = {}
    report = {"sources": {}, "checks": []}
    for path in raw_files:
        units = read_raw(path, scheme, articles)  # every field's type checked first
        violations = check_rows(rules, (row for _, row in read_jsonl(path)), scheme.none)
        if err := blocking_error(violations, str(path)):
            raise err
        report["checks"] += [v.line() for v in violations]
        aligned, unaligned = align(units, articles)
        for r in aligned:
            r.pairs, r.resolved_by = resolve(r.annotations)
            sid = r.sentence.sentence_id
            if sid in by_id and not Path(path).name.startswith(STUDIO_PREFIX):
                raise StanceError(f"sentence {sid} is annotated in more than one raw file")
            by_id[sid] = r
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
    from rich.console import Console
    from rich.table import Table

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
            ", ".join(f"{k} {v}" for k, v in sorted(s["resolved_by"].items())),
            *(f"{ag[f]['value']:.3f}" if f in ag else "-" for f in ("actor", "stance")),
        )
    console = Console()
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
