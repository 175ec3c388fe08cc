"""What the coverage report's header says of its inputs: the articles no articles.tsv dates, the
sentences that were the model's training data, and how far to trust each cell (or why that is unread).

Apart from ``training/report.py`` (which reads the input, writes the files and is the command):
each note here is one question put to the metadata, the model's lineage or its tracked run.
"""

from __future__ import annotations

from pathlib import Path

from stance.console import counted, first_few
from stance.errors import StanceError
from training.report_inputs import Row


def meta_note(unlisted: list[str], meta_path: Path | None, folder: Path | None) -> str | None:
    """Why articles have no date, outlet or url, where some have none: no articles.tsv was read, or
    the one read does not list them. Without it they were only counted as undated, which read as
    undated coverage rather than a file to give. None where the metadata lists every article."""
    if not unlisted:
        return None
    if meta_path is None:
        where = f"none in or beside {folder}; " if folder else ""
        every = (
            "the 1 article has no" if len(unlisted) == 1 else f"none of the {len(unlisted)} articles has a"
        )
        return (
            f"no articles.tsv read ({where}give one with --meta): {every} date, outlet or url, "
            f"so {'it is' if len(unlisted) == 1 else 'all are'} undated"
        )
    named = first_few(unlisted)
    one = len(unlisted) == 1
    return (
        f"{counted(len(unlisted), 'article')} not in {meta_path} ({named}): no date, outlet or url for "
        f"{'it, so it counts' if one else 'them, so they count'} as undated"
    )


def in_sample(rows: list[Row], data_version: str) -> dict | None:
    """How many of the scored sentences (and their articles) were labeled training data of the
    model: its calls on them were fitted to their labels, so they say more than the model knows of
    new coverage. None where none was, or where the model's data version has no snapshot here."""
    from training import lineage

    hit = [
        r
        for r, seen in zip(rows, lineage.in_sample(data_version, [r.text for r in rows]), strict=True)
        if seen
    ]
    if not hit:
        return None
    return {"sentences": len(hit), "articles": len({r.meta.article for r in hit})}


def trust_of(run_id: str | None, data_version: str, pairs: list[tuple[str, str]]) -> dict | None:
    """How far to trust each cell, from what the model's training run logged on articles it never
    saw (``training.reliability``), every labeled pair of a sentence read from the run's snapshot
    where this checkout has it; None for predictions read from a file, or a run without them. For a
    model that keeps its own table, :func:`training.report.build` reads that one and does not call this."""
    from training import reliability

    got = reliability.logged_rows(run_id) if run_id else None
    if got is None:
        return None
    rows, where = got
    return reliability.summary(rows, where, pairs, reliability.snapshot_pairs(data_version))


def trust_unread(named: set, kept: dict | None, header: dict) -> str | None:
    """Why a report of predict's JSONL has no trust table though its lines name what scored (None
    where they name no model, or its table was read): "not measured" would read as no model."""
    if len(named) > 1:
        said = ", ".join(m or "none (an older predict)" for m in sorted(named, key=str))
        return (
            f"these predictions are of {len(named)} models ({said}); a trust table is one model's: "
            "report each model's predictions apart"
        )
    model = next(iter(named), None)
    if model and kept is None and not header.get("run_id") and not Path(model).is_dir():
        return (
            f"these predictions name {model}, but its trust table could not be read now (the tracking "
            "store not reachable, or the model not in it); make the report again where it is"
        )
    return None


def kept_trust(model_uri: str) -> dict | None:
    """The trust table a logged model keeps (:func:`training.loading.trust_of`); None for a model
    without one, or one the tracking store cannot give now (the report then says "not measured")."""
    from training import loading, tracking

    tracking.setup_uri()
    from mlflow.exceptions import MlflowException
    from mlflow.models import get_model_info

    try:
        return loading.trust_of(model_uri, get_model_info(model_uri).flavors)
    except (MlflowException, OSError, StanceError):
        return None
