"""Following coverage over time: ``stance report INPUT`` -> one self-contained HTML file + CSV/JSON.

INPUT is a folder of articles (scored here with the champion, or ``--model``) or a JSONL file
of predictions written by ``stance predict -f jsonl``. Article dates, outlets, urls and
headlines come from ``articles.tsv`` (``--meta``; by default the one in or beside a folder INPUT);
the articles it does not list are named, not only counted as undated.

The figures, all from the same scored sentences:

* **timeline**: per actor and stance, per period, the expected count (the sum over sentences
  of the model's probability of that pair) and the argmax count beside it;
* **matrix**: actor x stance over the whole period (and per period in ``timeline.csv``), with how
  far to trust each cell: how often the model's calls of that pair were right on articles it never
  saw, and how many of the labeled ones it found (``training/reliability.py``);
* **evidence**: for each (actor, stance) cell, the most confident sentences with their article;
* **outlets**: which outlets report which pairs (argmax counts);
* **checks**: predictions that break a codebook rule (``configs/rules.yaml``).

Undated articles count in the totals and are listed; they have no place on the time axis.
The figures are computed in ``training/report_figures.py``, the header's notes on the inputs (the
metadata, in-sample sentences, trust) in ``training/report_notes.py``, and the files written by
``training/report_render.py``; this module reads the input and is the command.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from labeling.articles import other_language
from stance import paths
from stance.console import counted
from stance.errors import StanceError
from stance.scheme import Scheme
from training.batch_inputs import ARTICLE_SUFFIXES
from training.report_figures import aggregate, prediction_checks
from training.report_inputs import (
    batch_skipped,
    default_meta,
    from_predictions,
    input_hash,
    read_batch,
    read_meta,
    read_predictions,
    score_folder,
)
from training.report_notes import in_sample, kept_trust, meta_note, trust_of, trust_unread
from training.tracking import CHAMPION_URI


# -- the command ------------------------------------------------------------------------------
def build(input_path: Path, out: Path, meta_path: Path | None, by: str, model: str | None = None) -> dict:
    """Score (or read) the input, aggregate, and write the HTML report with its CSV/JSON beside it."""
    from training.report_render import model_header, write_outputs

    scheme = Scheme.load()
    if by not in ("week", "month"):
        raise StanceError(f"--by must be week or month, got '{by}'")
    if not input_path.exists():
        raise StanceError(f"{input_path}: no such file or folder")
    from training.score_batch import is_batch_output

    batch = input_path.is_dir() and is_batch_output(input_path)
    if input_path.is_file() and input_path.suffix.lower() in ARTICLE_SUFFIXES:
        raise StanceError(
            f"{input_path}: one article; report reads a folder of articles (put it in one), "
            "`stance predict -f jsonl` output or a `stance score-batch` folder"
        )
    if model is not None and (batch or input_path.is_file()):  # scored already: --model would be ignored
        raise StanceError(
            f"--model is for scoring a folder of articles; {input_path} is scored already "
            "(score the articles again with `stance predict --model` or `stance score-batch --model`)"
        )
    meta_path = meta_path or (default_meta(input_path) if input_path.is_dir() and not batch else None)
    metas = read_meta(meta_path)
    check_writable(out)
    skipped: list[dict] = []  # a folder's files that are not articles, passed over
    reused = 0  # articles whose scores an earlier report of this model and code had made
    if batch:  # a score-batch output: its rows, scored already, and the record of what scored them
        preds, headlines, files, carried, record = read_batch(input_path, scheme)
        metas = carried | metas  # an articles.tsv given by --meta wins over the rows' own
        header = {k: record[k] for k in ("model", "data_version", "scheme_hash", "run_id") if k in record}
        kept = record.get("trust")
        skipped = batch_skipped(input_path)  # the files the batch passed over, listed as a folder's are
    elif input_path.is_dir():
        model = model or CHAMPION_URI
        preds, headlines, files, kept, reused = score_folder(input_path, model, scheme, skipped, set(metas))
        header = model_header(model, scheme)
    else:
        preds, headlines, files, data_version, named, carried = read_predictions(input_path, scheme)
        metas = carried | metas  # an articles.tsv given by --meta wins over the profile lines' own
        by_model = next(iter(named)) if len(named) == 1 else None
        whose = f" by {by_model}" if by_model else f" of {len(named)} models" if len(named) > 1 else ""
        header = (model_header(by_model, scheme) if by_model else {}) | {
            "model": f"predictions in {input_path.name}{whose}",
            "data_version": data_version,
            "scheme_hash": scheme.hash,
        }
        kept = kept_trust(by_model) if by_model else None  # the model's own table, as a folder's report reads
        note = trust_unread(named, kept, header)
        header |= {"trust_note": note} if note else {}
    unlisted = sorted({p.article for p in preds} - metas.keys())  # before from_predictions fills them in
    # where the dates came from, read before from_predictions fills in a blank one for each article
    meta_from = _meta_source(meta_path, metas, batch)
    rows = from_predictions(preds, metas, headlines, scheme)
    agg = aggregate(rows, scheme, by)
    articles = {r.meta.article: r.meta for r in rows}
    header |= {
        "input": str(input_path),
        "input_hash": input_hash(files + ([meta_path] if meta_path else [])),
        "meta": meta_from,
        "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "by": by,
        "articles": len(articles),
        "sentences": len(rows),
        "undated": sorted(a for a, m in articles.items() if m.date is None),
        "skipped": skipped,
        "unlisted": unlisted,
    }
    header["meta_note"] = meta_note(
        unlisted, meta_path, input_path if input_path.is_dir() and not batch else None
    )
    header["in_sample"] = in_sample(rows, header["data_version"])
    header["other_language"] = other_language([(r.meta.article, r.text) for r in rows])
    checks = prediction_checks(rows, scheme)
    out.mkdir(parents=True, exist_ok=True)
    write_outputs(
        out,
        header,
        agg,
        rows,
        articles,
        checks,
        scheme,
        kept or trust_of(header.get("run_id"), header["data_version"], agg["pairs"]),
    )
    return {
        "out": str(out),
        **{
            k: header[k]
            for k in (
                "articles",
                "sentences",
                "undated",
                "skipped",
                "in_sample",
                "other_language",
                "meta_note",
            )
        },
        "checks": len(checks),
        "reused": reused,
    }


def _meta_source(meta_path: Path | None, metas: dict, batch: bool) -> str:
    """Where the articles' dates, outlets and urls came from, in the header's words; "none" where
    nothing gave any (a folder without articles.tsv was said to be read from "the profile lines")."""
    if meta_path:
        return str(meta_path)
    if not metas:
        return "none"
    return "the batch's rows" if batch else "the profile lines"


def check_writable(out: Path) -> None:
    """Refuse an output that cannot be written before any scoring is done."""
    if out.exists() and not out.is_dir():
        raise StanceError(f"--out {out}: exists and is not a folder")
    made = [p for p in [out, *out.parents] if not p.exists()]  # folders the probe makes, undone after it
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise StanceError(f"--out {out}: cannot write there ({exc.strerror})") from None
    finally:  # a command that then fails on its input leaves no empty report folder behind
        for folder in made:
            with contextlib.suppress(OSError):
                folder.rmdir()


def cli(
    input_path: Annotated[
        Path,
        typer.Argument(
            metavar="INPUT",
            help="A folder of articles, `stance predict -f jsonl` output, or a `stance score-batch` output folder.",
        ),
    ],
    meta: Annotated[
        Path | None,
        typer.Option(
            help="articles.tsv: article, date, outlet, url, headline [default: in or beside a folder INPUT]."
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Output folder [default: .stance/reports/coverage].")
    ] = None,
    by: Annotated[str, typer.Option(help="Period of the timeline: week or month.")] = "month",
    model: Annotated[
        str | None,
        typer.Option(help=f"MLflow model URI for scoring a folder [default: {CHAMPION_URI}]."),
    ] = None,
) -> None:
    """Who took which stance over time, with evidence: one self-contained HTML report and its data."""
    r = build(input_path, out or paths.state() / "reports" / "coverage", meta, by, model)
    undated = f"; {len(r['undated'])} undated (counted, listed)" if r["undated"] else ""
    print(
        f"report of {counted(r['articles'], 'article')}, {counted(r['sentences'], 'sentence')}{undated}; "
        f"{counted(r['checks'], 'codebook flag')}"
    )
    if r["meta_note"]:
        print(f"  {r['meta_note']}")
    if r["reused"]:
        print(
            f"  {counted(r['reused'], 'article')} read as an earlier report scored "
            f"{'it' if r['reused'] == 1 else 'them'} (the same model, code and text; kept in .stance/scored), "
            "not scored again"
        )
    repeats = [s for s in r["skipped"] if "same_as" in s]
    if others := len(r["skipped"]) - len(repeats):
        print(
            f"  skipped {counted(others, 'file that is not an article', 'files that are not articles')} "
            "(listed in the report with the reasons)"
        )
    if repeats:
        print(
            f"  passed over {counted(len(repeats), 'file')} with the same text as another (listed in the report)"
        )
    if seen := r["in_sample"]:
        print(
            f"  in-sample: {seen['sentences']} of the {r['sentences']} sentences ({seen['articles']} of "
            f"{r['articles']} articles) were the model's labeled training data; its calls on them are no "
            "measure of new coverage (the report says so at its top)"
        )
    if seen := r["other_language"]:
        from training.report_render import other_language_said

        print(f"  another language: {other_language_said(seen, r['sentences'], r['articles'])}")
    print(f"  {Path(r['out']) / 'report.html'} (open it in a browser; CSV/JSON beside it)")


if __name__ == "__main__":
    from stance.runner import run

    run(cli)
