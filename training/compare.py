"""Compare an experiment's runs: a terminal table and a Markdown report with plots.

Runs are ranked only against runs on the same data version; when an experiment
holds several data versions, the table and the report say so and rank each apart.
The report (``experiments/<name>/report.md`` and its PNGs) is also logged to MLflow, to a
``compare report`` run in the experiment ``<name>-compare``, whose params name the runs compared;
comparing the same runs again overwrites that run (``training/compare_log.py``; the tables are
``training/compare_tables.py``, the plots ``training/compare_plots.py``).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from stance import paths
from stance.errors import StanceError
from stance.io import write_atomic
from stance.scheme import Scheme
from training import tracking
from training.compare_log import REPORT_RUN, REPORT_TAG, log_report, report_experiment
from training.compare_plots import OOF, confusion, plot_confusions, plot_learning_curve, plot_per_class
from training.compare_tables import markdown, print_tables

REPORT_FILE = "report.md"


@dataclass
class RunRow:
    """One run as compare sees it: identity, data version and metrics."""

    run_id: str
    entry: str
    kind: str
    data_version: str
    train_share: float
    start_time: int
    metrics: dict[str, float]
    tags: dict[str, str] = field(default_factory=dict)
    model: str = ""  # its registered version and the aliases it holds now ("v1 champion"), "" for none

    def m(self, name: str) -> float:
        return self.metrics.get(name, float("nan"))


@dataclass
class Comparison:
    experiment: str
    rows: list[RunRow]  # the latest run per (entry, data version, share)
    notes: list[str] = field(default_factory=list)  # what the report leaves out, and why

    @property
    def data_versions(self) -> list[str]:
        """Newest first (by the latest run on each)."""
        latest: dict[str, int] = {}
        for r in self.rows:
            latest[r.data_version] = max(latest.get(r.data_version, 0), r.start_time)
        return sorted(latest, key=latest.get, reverse=True)

    def ranked(self, data_version: str) -> list[RunRow]:
        """Full-data runs on one data version, by the champion rule's first figure (then grouped CV): the
        rolling origin's pooled stance macro-F1, for runs logged before it the time split's; runs without either last."""
        rows = [r for r in self.rows if r.data_version == data_version and r.train_share >= 1]

        def key(r):  # runs with the rolling origin first, then runs with the time split alone, then the rest
            found = tracking.selection(r.metrics)
            rank, figure = (len(tracking.SELECTION_METRICS), 0.0) if found is None else (found[0], found[2])
            return (rank, -figure, -np.nan_to_num(r.m("stance_macro_f1")))

        return sorted(rows, key=key)

    @property
    def curve(self) -> list[RunRow]:
        """Learning-curve points: every run of an entry that was also run on a share of the data."""
        lines = {(r.entry, r.data_version) for r in self.rows if r.train_share < 1}
        return [r for r in self.rows if (r.entry, r.data_version) in lines]

    def not_run(self) -> list[str]:
        """Entries of the runs' spec files (as they are now) with no finished run here."""
        from training.experiments import ExperimentSpec

        names: list[str] = []
        for spec in sorted({r.tags.get("spec") for r in self.rows} - {None}):
            path = Path(spec) if Path(spec).is_absolute() else paths.root() / spec
            if path.is_file():
                names += [run.name or run.recipe for run in ExperimentSpec.from_yaml(path).runs]
        done = {r.entry for r in self.rows}
        return [n for n in dict.fromkeys(names) if n not in done]

    def mixed_note(self) -> str | None:
        """The warning every output carries when runs are on more than one data version."""
        versions = self.data_versions
        if len(versions) < 2:
            return None
        counts = ", ".join(f"{v} ({sum(r.data_version == v for r in self.rows)} runs)" for v in versions)
        return (
            f"runs on {len(versions)} data versions: {counts}; each is ranked only against runs "
            "on the same data version, never across"
        )


# -- reading runs ------------------------------------------------------------------------
def load(experiment: str) -> Comparison:
    """The experiment's finished runs, the latest per entry, data version and share."""
    import mlflow

    tracking.setup_uri()
    exp = mlflow.get_experiment_by_name(experiment)
    if exp is None:
        known = ", ".join(sorted(e.name for e in mlflow.search_experiments())) or "none"
        raise StanceError(
            f"no MLflow experiment named '{experiment}' in {tracking.tracking_uri()} (have: {known})"
        )
    runs = mlflow.search_runs(
        [exp.experiment_id], filter_string="attributes.status = 'FINISHED'", output_format="list",
        order_by=["attributes.start_time DESC"],
    )  # fmt: skip
    latest: dict[tuple, RunRow] = {}
    for run in runs:
        tags = run.data.tags
        if tags.get(REPORT_TAG) or "data_version" not in tags:
            continue
        row = RunRow(
            run.info.run_id, tags.get("entry") or tags.get("recipe", run.info.run_name), tags.get("kind", "?"),
            tags["data_version"], float(tags.get("train_share", 1)), run.info.start_time, run.data.metrics, tags,
        )  # fmt: skip
        latest.setdefault((row.entry, row.data_version, row.train_share), row)  # newest first
    if not latest:
        raise StanceError(f"experiment '{experiment}' has no finished training runs yet")
    comp = Comparison(experiment, list(latest.values()))
    comp.notes += split_notes(comp)
    comp.notes += champion_notes(comp, registered(comp.rows))
    return comp


def registered(rows: list[RunRow]) -> list[str]:
    """Fill each row's ``model`` from the registry as it stands now (the version and the aliases it
    holds: a run's ``registry_decision`` tag says what training decided then, not which version is
    champion today); the registered models the runs are in."""
    from mlflow import MlflowClient

    client, models = MlflowClient(), []
    for r in rows:
        versions = [  # search results leave ``aliases`` empty: each version is read whole
            client.get_model_version(v.name, v.version)
            for v in client.search_model_versions(f"run_id = '{r.run_id}'")
        ]
        r.model = ", ".join(
            f"{'' if v.name == tracking.REGISTERED_MODEL else v.name + ' '}v{v.version}"
            + "".join(f" {a}" for a in sorted(v.aliases))
            for v in sorted(versions, key=lambda v: (v.name, int(v.version)))
        )
        models += [v.name for v in versions if v.name not in models]
    return models


def champion_notes(comp: Comparison, models: list[str]) -> list[str]:
    """For each registered model of the runs: which version is champion, which run it is, and why
    (its run's ``promotion_decision``, else the ``registry_decision`` training recorded), so the
    report says why the champion is the champion, not only how each run scored."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    client, notes = MlflowClient(), []
    for name in models:
        try:
            mv = client.get_model_version_by_alias(name, tracking.CHAMPION)
        except MlflowException:
            notes.append(f"{name} has no {tracking.CHAMPION} yet (`stance promote {comp.experiment}`)")
            continue
        row = next((r for r in comp.rows if r.run_id == mv.run_id), None)
        if row is None:
            notes.append(
                f"{tracking.CHAMPION} of {name} is v{mv.version} (run {mv.run_id}), not among these runs: "
                "trained in another experiment, or an older run of an entry shown here"
            )
            continue
        tags = row.tags
        why = (
            tags.get(tracking.PROMOTION_DECISION)
            or tags.get(tracking.REGISTRY_DECISION)
            or "no decision recorded"
        )
        notes.append(
            f"{tracking.CHAMPION} of {name} is v{mv.version}, run {row.entry} ({mv.run_id[:8]}) on data "
            f"{row.data_version}: {why}"
        )
    return notes


def split_notes(comp: Comparison) -> list[str]:
    """A note for each data version whose ranked runs were scored on more than one time split
    (``stance build-dataset --test-share`` keeps the data version, not the split): their time-split
    and rolling-origin figures, the ranking's, are over different test articles."""
    notes = []
    for version in comp.data_versions:
        splits: dict[str, list[str]] = {}
        for r in comp.ranked(version):
            if "split_hash" in r.tags:  # runs logged before the tag: their split is not known
                splits.setdefault(r.tags["split_hash"], []).append(r.entry)
        if len(splits) > 1:
            each = "; ".join(f"{split}: {', '.join(entries)}" for split, entries in splits.items())
            notes.append(
                f"the runs on data {version} were scored on {len(splits)} time splits ({each}): their "
                "time-split and rolling-origin figures are over different test articles, not one question; "
                "rank them after training them all on one split (one `stance build-dataset --test-share`)"
            )
    return notes


# -- the whole report --------------------------------------------------------------------
# every plot a report draws
PLOTS = CURVE_PNG, PER_CLASS_PNG, CONFUSION_PNG = (
    "learning_curve.png",
    "per_class_f1.png",
    "confusion_stance.png",
)


def write_report(comp: Comparison, scheme: Scheme, folder: Path) -> list[Path]:
    """Render the report and its plots into ``folder`` (files replaced whole, never half-written); the
    files written, the report first."""
    import matplotlib

    matplotlib.use("Agg")
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder, prefix=".report.") as tmp:
        tmp = Path(tmp)
        images = []
        if any(comp.ranked(v) for v in comp.data_versions):
            images += [plot_per_class(comp, scheme, tmp / PER_CLASS_PNG).name]
            matrices = confusions(comp, scheme)
            images += [plot_confusions(comp, scheme, matrices, tmp / CONFUSION_PNG).name]
        if comp.curve:
            images.insert(0, plot_learning_curve(comp, tmp / CURVE_PNG).name)
        for image in images:
            os.replace(tmp / image, folder / image)
    for stale in set(PLOTS) - set(images):  # a plot an earlier report drew, which this one does not link
        (folder / stale).unlink(missing_ok=True)
    write_atomic(folder / REPORT_FILE, markdown(comp, scheme, images))
    return [folder / REPORT_FILE, *(folder / image for image in images)]


def confusions(comp: Comparison, scheme: Scheme) -> dict[str, np.ndarray | None]:
    """Each ranked run's stance confusion matrix; a note for each run logged without its OOF predictions."""
    out = {}
    for r in (r for v in comp.data_versions for r in comp.ranked(v)):
        out[r.run_id] = confusion(r, scheme, "stance")
        if out[r.run_id] is None:
            comp.notes.append(
                f"run {r.entry} ({r.run_id[:8]}) has no {OOF} (logged before training wrote it): "
                "its confusion matrix is left out; retrain it to see one"
            )
    return out


def default_folder(experiment: str) -> Path:
    """Where a report goes by default: beside its spec (``experiments/<name>/``, committed with it)
    when the experiment is a spec's, else under the git-ignored ``.stance/reports/<name>/``, so
    comparing the runs of ``stance train`` does not write into the checkout."""
    if any((paths.experiments() / f"{experiment}{suffix}").is_file() for suffix in (".yaml", ".yml")):
        return paths.experiments() / experiment
    return paths.state() / "reports" / experiment


def compare(experiment: str, out: Path | None = None, log: bool = True) -> tuple[Comparison, Path]:
    scheme = Scheme.load()
    comp = load(experiment)
    folder = out or default_folder(experiment)
    files = write_report(comp, scheme, folder)
    if log:
        log_report(comp, files)
    return comp, files[0]


def cli(
    experiment: Annotated[
        str, typer.Argument(help="MLflow experiment name (a spec's `name`), or the spec file.")
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            help="Report folder [default: experiments/<name>/ for a spec's, else .stance/reports/<name>/]."
        ),
    ] = None,
    wide: Annotated[
        bool, typer.Option(help="Every column of the report here, not only the headline figures.")
    ] = False,
) -> None:
    """Compare an experiment's runs: a table here, a Markdown report with plots, logged to MLflow."""
    if experiment.endswith((".yaml", ".yml")):
        from training.experiments import ExperimentSpec

        experiment = ExperimentSpec.from_yaml(Path(experiment)).name
    with tracking.store_calls():
        comp, report = compare(experiment, out)
    print_tables(comp, Scheme.load(), wide)
    print(
        f"report: {report} (also logged to MLflow, run '{REPORT_RUN}' of experiment "
        f"{report_experiment(experiment)})"
    )


if __name__ == "__main__":
    from stance.runner import run

    run(cli)
