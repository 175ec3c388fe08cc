"""Compare an experiment's runs: a terminal table and a Markdown report with plots.

Runs are ranked only against runs on the same data version; when an experiment
holds several data versions, the table and the report say so and rank each apart.
The report (``experiments/<name>/report.md`` and its PNGs) is also logged to MLflow,
to one ``compare report`` run of the experiment that each compare overwrites.
"""

from __future__ import annotations

import json
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

REPORT_TAG = "report"  # tag of the run that holds the compare report
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

    def m(self, name: str) -> float:
        return self.metrics.get(name, float("nan"))


@dataclass
class Comparison:
    experiment: str
    rows: list[RunRow]  # the latest run per (entry, data version, share)

    @property
    def data_versions(self) -> list[str]:
        """Newest first (by the latest run on each)."""
        latest: dict[str, int] = {}
        for r in self.rows:
            latest[r.data_version] = max(latest.get(r.data_version, 0), r.start_time)
        return sorted(latest, key=latest.get, reverse=True)

    def ranked(self, data_version: str) -> list[RunRow]:
        """Full-data runs on one data version, by the champion rule's figure (then grouped CV); runs without it last."""
        rows = [r for r in self.rows if r.data_version == data_version and r.train_share >= 1]

        def key(r):
            figure = r.m(tracking.SELECTION_METRIC)
            return (np.isnan(figure), -np.nan_to_num(figure), -np.nan_to_num(r.m("stance_macro_f1")))

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
    return Comparison(experiment, list(latest.values()))


# -- the terminal table ------------------------------------------------------------------
def columns(scheme: Scheme) -> list[tuple[str, str, callable]]:
    """(report header, terminal header, value-of-row) for every column of the tables."""

    def pm(name):
        return lambda r: f"{r.m(name):.3f} ± {r.m(name + '_std'):.3f}"

    def num(name, fmt="{:.3f}"):
        return lambda r: "—" if np.isnan(r.m(name)) else fmt.format(r.m(name))

    def pair(a, b):  # runs logged before a metric existed show a dash
        return lambda r: "—" if np.isnan(r.m(a)) else f"{r.m(a):.2f} / {r.m(b):.2f}"

    def ci(name):  # a figure with its 90 % bootstrap interval by article
        return lambda r: (
            "—"
            if np.isnan(r.m(name))
            else f"{r.m(name):.3f} [{r.m(name + '_lo'):.2f}–{r.m(name + '_hi'):.2f}]"
        )

    cols = [
        ("run", "run", lambda r: r.entry),
        ("kind", "kind", lambda r: r.kind),
        ("time split: stance macro-F1 [90% CI]", "time F1", ci("time_stance_macro_f1")),
        ("time split: actor acc. end to end [90% CI]", "time actor", ci("time_actor_accuracy_e2e")),
        ("CV pooled: stance macro-F1 [90% CI]", "CV F1", ci("cv_stance_macro_f1")),
        ("CV pooled: actor acc. end to end [90% CI]", "CV actor", ci("cv_actor_accuracy_e2e")),
        ("stance macro-F1", "macro-F1", pm("stance_macro_f1")),
    ]
    cols += [(f"F1 {s}", s, num(f"stance_f1_{s}", "{:.2f}")) for s in scheme.stance_labels]
    cols += [
        ("actor acc.", "actor acc.", pm("actor_accuracy")),
        ("actor acc. (stance-bearing)", "bearing", num("actor_accuracy_stance_bearing")),
        (
            "profile pairs precision / recall",
            "pairs P/R",
            pair("profile_pair_precision", "profile_pair_recall"),
        ),
        ("stance ECE", "ECE", num("stance_ece")),
        ("CV time", "CV", num("cv_seconds", "{:.0f} s")),
        ("final fit", "fit", num("train_seconds", "{:.0f} s")),
    ]
    return cols


def print_tables(comp: Comparison, scheme: Scheme) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not console.is_terminal:
        console = Console(width=max(console.width, 260))  # a pipe or a log: keep every column whole
    if note := comp.mixed_note():
        console.print(f"[bold yellow]note:[/] {note}")
    for version in comp.data_versions:
        rows = comp.ranked(version)
        if not rows:
            continue
        table = Table(
            title=f"{comp.experiment}: data version {version}, ranked by time-split stance macro-F1",
            caption=(
                "time: trained on the older articles, scored on the newest; CV: grouped CV's out-of-fold"
                " predictions pooled; [90% bootstrap interval by article]; actor end to end: on stance-bearing"
                " sentences, right only when the predicted actor is the labeled one; macro-F1: fold mean ± std;"
                " per-class stance F1 pooled out-of-fold; bearing: best real actor on stance-bearing sentences;"
                " pairs: (actor, stance) pairs per article, reported against labeled"
            ),
        )
        table.add_column("#", justify="right")
        for _, short, _ in columns(scheme):
            table.add_column(short, justify="left" if short in ("run", "kind") else "right", no_wrap=True)
        for i, row in enumerate(rows, 1):
            table.add_row(str(i), *(value(row) for _, _, value in columns(scheme)))
        console.print(table)
    if missing := comp.not_run():
        console.print(f"[bold yellow]not in this comparison:[/] {_not_run_note(comp, missing)}")
    if comp.curve:
        console.print(f"learning curve: {len(comp.curve)} points, see the report's learning_curve.png")


# -- the Markdown report ------------------------------------------------------------------
def markdown(comp: Comparison, scheme: Scheme, images: list[str]) -> str:
    lines = [f"# Experiment `{comp.experiment}`", ""]
    specs = sorted({r.tags.get("spec", "") for r in comp.rows} - {""})
    commits = sorted({r.tags.get("git_commit", "?") for r in comp.rows})
    lines += [
        f"Written by `stance compare {comp.experiment}` from the MLflow runs"
        + (f" of `{'`, `'.join(specs)}`" if specs else "")
        + f"; code at git commit {', '.join(f'`{c}`' for c in commits)}.",
        "Runs are ranked by the champion rule's figure, stance macro-F1 on the **time split** (trained on the",
        "older articles, scored on the newest). Intervals are 90 % bootstrap intervals by article (1,000",
        "resamples of whole articles). Actor accuracy end to end: on sentences whose labeled stance is not",
        "`none`, right only when the predicted actor is the labeled primary actor. CV pooled: grouped",
        "cross-validation's out-of-fold predictions, all folds together. The other metrics are grouped",
        "cross-validation by article (mean ± standard deviation over folds;",
        "per-class F1 pooled over the out-of-fold predictions). Profile pairs: the distinct (actor, stance)",
        "pairs each article's profile reports, against those its labels hold, pooled over articles",
        "(— for runs logged before this figure existed).",
        "",
    ]
    if note := comp.mixed_note():
        lines += [f"**Note: {note}.**", ""]
    if missing := comp.not_run():
        lines += [f"**Not in this report:** {_not_run_note(comp, missing)}.", ""]
    for version in comp.data_versions:
        rows = comp.ranked(version)
        if rows:
            lines += [f"## Data version `{version}`", "", *_md_table(rows, scheme), ""]
    if comp.curve:
        lines += ["## Learning curve", "", *_md_curve(comp.curve), ""]
    for image in images:
        lines += [f"![{image.removesuffix('.png').replace('_', ' ')}]({image})", ""]
    return "\n".join(lines).rstrip() + "\n"


def _not_run_note(comp: Comparison, missing: list[str]) -> str:
    names = ", ".join(f"`{n}`" for n in missing)
    return (
        f"the spec's runs {names} have no finished run in this store "
        "(`stance experiment run SPEC` trains them; finished runs are skipped)"
    )


def _md_table(rows: list[RunRow], scheme: Scheme) -> list[str]:
    cols = columns(scheme)
    out = ["| # | " + " | ".join(h for h, _, _ in cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for i, row in enumerate(rows, 1):
        out.append(f"| {i} | " + " | ".join(value(row) for _, _, value in cols) + " |")
    return out


def _md_curve(points: list[RunRow]) -> list[str]:
    out = [
        "| run | share of training articles | training sentences (mean per fold) | stance macro-F1 |",
        "|---|---|---|---|",
    ]
    for r in sorted(points, key=lambda r: (r.entry, r.data_version, r.train_share)):
        out.append(
            f"| {r.entry} | {r.train_share:.0%} | {r.m('train_sentences'):.0f} | "
            f"{r.m('stance_macro_f1'):.3f} ± {r.m('stance_macro_f1_std'):.3f} |"
        )
    return out


# -- plots ---------------------------------------------------------------------------------
def plot_per_class(comp: Comparison, scheme: Scheme, path: Path) -> Path:
    """Grouped bars: per-class F1 of each full-data run, stance and actor facets."""
    import matplotlib.pyplot as plt

    rows = [r for v in comp.data_versions for r in comp.ranked(v)]
    mixed = len(comp.data_versions) > 1
    fig, axes = plt.subplots(2, 1, figsize=(10, 7.5))
    for ax, facet, labels in (
        (axes[0], "stance", scheme.stance_labels),
        (axes[1], "actor", scheme.actor_labels),
    ):
        width = 0.8 / len(rows)
        for i, r in enumerate(rows):
            x = np.arange(len(labels)) + (i - (len(rows) - 1) / 2) * width
            name = f"{r.entry} @ {r.data_version}" if mixed else r.entry
            ax.bar(x, [r.m(f"{facet}_f1_{c}") for c in labels], width, label=name)
        ax.set_xticks(np.arange(len(labels)), labels)
        ax.set(ylim=(0, 1), ylabel="F1 (pooled out-of-fold)", title=f"{facet}: per-class F1 by model")
        ax.grid(axis="y", alpha=0.3)
    axes[0].legend(loc="upper left", fontsize=8, ncols=min(len(rows), 4))
    return _save(fig, path)


def plot_confusions(comp: Comparison, scheme: Scheme, path: Path) -> Path:
    """The stance confusion matrices of the full-data runs side by side (rows: true class)."""
    import matplotlib.pyplot as plt

    rows = [r for v in comp.data_versions for r in comp.ranked(v)]
    labels = scheme.stance_labels
    fig, axes = plt.subplots(1, len(rows), figsize=(3.6 * len(rows) + 0.8, 4.8), squeeze=False)
    for ax, r in zip(axes[0], rows, strict=True):
        m = confusion(r, scheme, "stance")
        recall = m / np.maximum(m.sum(axis=1, keepdims=True), 1)
        ax.imshow(recall, cmap="Blues", vmin=0, vmax=1)
        for (i, j), n in np.ndenumerate(m):
            ax.text(
                j,
                i,
                int(n),
                ha="center",
                va="center",
                fontsize=8,
                color="white" if recall[i, j] > 0.5 else "black",
            )
        ax.set_xticks(range(len(labels)), labels, rotation=40, ha="right", fontsize=8)
        ax.set_yticks(range(len(labels)), labels if ax is axes[0][0] else [], fontsize=8)
        ax.set_title(f"{r.entry}\nmacro-F1 {r.m('stance_macro_f1'):.3f}", fontsize=9)
        ax.set_xlabel("predicted", fontsize=8)
    axes[0][0].set_ylabel("true stance", fontsize=8)
    fig.suptitle("stance: out-of-fold confusion (counts; colour = share of the true class)", fontsize=10)
    return _save(fig, path)


def confusion(row: RunRow, scheme: Scheme, facet: str) -> np.ndarray:
    """A run's pooled out-of-fold confusion matrix, rebuilt from its logged artifacts.

    ``misclassified.jsonl`` lists every sentence with a wrong actor or stance (true
    and predicted labels of both facets); the diagonal is the class support minus
    that class's errors, so the matrix is exact, for runs logged before this too.
    """
    import mlflow

    labels = scheme.stance_labels if facet == "stance" else scheme.actor_labels
    m = np.zeros((len(labels), len(labels)), dtype=int)
    with tempfile.TemporaryDirectory() as tmp:
        local = mlflow.artifacts.download_artifacts(
            run_id=row.run_id, artifact_path="evaluation/misclassified.jsonl", dst_path=tmp
        )
        for line in Path(local).read_text(encoding="utf-8").splitlines():
            rec = json.loads(line)
            k = 0 if facet == "actor" else 1
            t, p = labels.index(rec["true"][k]), labels.index(rec["predicted"][k])
            if t != p:
                m[t, p] += 1
    for i, label in enumerate(labels):
        m[i, i] = int(row.m(f"{facet}_support_{label}")) - m[i].sum()
    return m


def plot_learning_curve(comp: Comparison, path: Path) -> Path:
    """Stance macro-F1 (fold mean ± std) against the training sentences per fold."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 5))
    mixed = len(comp.data_versions) > 1
    for (entry, version), pts in _by_line(comp.curve).items():
        pts = sorted(pts, key=lambda r: r.train_share)
        x = [r.m("train_sentences") for r in pts]
        ax.errorbar(
            x, [r.m("stance_macro_f1") for r in pts], yerr=[r.m("stance_macro_f1_std") for r in pts],
            marker="o", capsize=3, label=f"{entry} @ {version}" if mixed else entry,
        )  # fmt: skip
    ax.set(
        xlabel="labeled training sentences (mean per fold; whole articles sampled)",
        ylabel="stance macro-F1 (grouped CV, mean ± std over folds)",
        title="Learning curve: stance macro-F1 against labeled data",
    )
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    return _save(fig, path)


def _by_line(points: list[RunRow]) -> dict[tuple[str, str], list[RunRow]]:
    lines: dict[tuple[str, str], list[RunRow]] = {}
    for r in points:
        lines.setdefault((r.entry, r.data_version), []).append(r)
    return lines


def _save(fig, path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


# -- the whole report --------------------------------------------------------------------
def write_report(comp: Comparison, scheme: Scheme, folder: Path) -> Path:
    """Render the report and its plots into ``folder`` (files replaced whole, never half-written)."""
    import matplotlib

    matplotlib.use("Agg")
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder, prefix=".report.") as tmp:
        tmp = Path(tmp)
        images = []
        if any(comp.ranked(v) for v in comp.data_versions):
            images += [plot_per_class(comp, scheme, tmp / "per_class_f1.png").name]
            images += [plot_confusions(comp, scheme, tmp / "confusion_stance.png").name]
        if comp.curve:
            images.insert(0, plot_learning_curve(comp, tmp / "learning_curve.png").name)
        for image in images:
            os.replace(tmp / image, folder / image)
    write_atomic(folder / REPORT_FILE, markdown(comp, scheme, images))
    return folder / REPORT_FILE


def log_report(comp: Comparison, folder: Path) -> str:
    """Log the report folder to the experiment's one report run (created once, then overwritten)."""
    import mlflow

    exp = mlflow.get_experiment_by_name(comp.experiment)
    found = mlflow.search_runs(
        [exp.experiment_id],
        filter_string=f"tags.{REPORT_TAG} = 'compare'",
        output_format="list",
        max_results=1,
    )
    run_id = found[0].info.run_id if found else None
    with mlflow.start_run(run_id=run_id, experiment_id=exp.experiment_id, run_name="compare report") as run:
        mlflow.set_tags({REPORT_TAG: "compare", "mlflow.note.content": (folder / REPORT_FILE).read_text()})
        mlflow.log_artifacts(str(folder), artifact_path="report")
    return run.info.run_id


def compare(experiment: str, out: Path | None = None, log: bool = True) -> tuple[Comparison, Path]:
    scheme = Scheme.load()
    comp = load(experiment)
    folder = out or paths.experiments() / experiment
    report = write_report(comp, scheme, folder)
    if log:
        log_report(comp, folder)
    return comp, report


def cli(
    experiment: Annotated[
        str, typer.Argument(help="MLflow experiment name (a spec's `name`), or the spec file.")
    ],
    out: Annotated[Path | None, typer.Option(help="Report folder [default: experiments/<name>/].")] = None,
) -> None:
    """Compare an experiment's runs: a table here, a Markdown report with plots, logged to MLflow."""
    if experiment.endswith((".yaml", ".yml")):
        from training.experiments import ExperimentSpec

        experiment = ExperimentSpec.from_yaml(Path(experiment)).name
    comp, report = compare(experiment, out)
    print_tables(comp, Scheme.load())
    print(f"report: {report} (also logged to MLflow, run 'compare report' of experiment {experiment})")
