"""Logging a compare report to MLflow: the report run of the runs compared (in the experiment
``<name>-compare``), its params naming those runs, and what an earlier report left behind.

Apart from ``training/compare.py`` (reading the runs and writing the report and its plots): this
is what the report becomes in the tracking store, which :func:`training.compare.compare` skips
with ``log=False``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING

from training import tracking

if TYPE_CHECKING:
    from training.compare import Comparison

REPORT_TAG = "report"  # tag of the run that holds the compare report
REPORT_RUN = "compare report"
RUNS_FILE = "runs.json"  # the runs compared, by name: the report run's `runs` param where it fits
PARAM_LIMIT = 6000  # the longest param value MLflow stores (its MAX_PARAM_VAL_LENGTH)


def report_experiment(experiment: str) -> str:
    """Where the report runs of ``experiment`` go: an experiment of their own, so the training
    experiment's runs table holds training runs alone (sorted by a metric, a report run was a row
    with no params and no metrics). The cost: the report is one experiment away from its runs."""
    return f"{experiment}-compare"


def runs_by_name(comp: Comparison) -> dict[str, str]:
    """Each run compared, by name (a learning-curve point's name carries its share, a name on several
    data versions its version), to its run id, sorted by name."""
    several = len(comp.data_versions) > 1
    runs = {
        r.entry
        + (f" share {r.train_share:g}" if r.train_share < 1 else "")
        + (f" on {r.data_version}" if several else ""): r.run_id
        for r in comp.rows
    }
    return dict(sorted(runs.items()))


def report_params(comp: Comparison) -> dict[str, str]:
    """What a report compared, as its run's params: the experiment, its data versions (newest
    first) and :func:`runs_by_name` as JSON (``{"baseline": "<run id>", ...}``); where that is longer
    than MLflow keeps a param (about 90 runs), their count and digest, the names being in the run's
    ``report/runs.json`` either way."""
    runs = runs_by_name(comp)
    listed = json.dumps(runs)
    if len(listed) > PARAM_LIMIT:  # MLflow refuses a longer param, and with it the report
        digest = hashlib.sha256(listed.encode()).hexdigest()[:12]
        listed = f"{len(runs)} runs, by name in report/{RUNS_FILE} (sha256 {digest})"
    return {"experiment": comp.experiment, "data_version": ", ".join(comp.data_versions), "runs": listed}


def log_report(comp: Comparison, files: list[Path]) -> str:
    """Log the report's ``files`` (the report first) to the report run of these runs in
    :func:`report_experiment`: comparing the same runs again overwrites it (as `stance train` does
    not train an identical run twice), other runs make a new one (MLflow keeps a run's params).
    Only ``files``: ``--out`` may name a folder that holds other files."""
    import mlflow

    experiment_id = tracking.setup(report_experiment(comp.experiment))
    tags = {REPORT_TAG: "compare", tracking.NOTE: files[0].read_text()}
    with tracking.study_run(
        experiment_id, REPORT_RUN, {f"tags.{REPORT_TAG}": "compare"}, tags, report_params(comp)
    ) as run:
        for path in files:
            mlflow.log_artifact(str(path), artifact_path="report")
        mlflow.log_text(json.dumps(runs_by_name(comp), indent=1), f"report/{RUNS_FILE}")
        _drop_stale(run, {f"report/{path.name}" for path in [*files, Path(RUNS_FILE)]})
    _retire_report_runs_in(comp.experiment)
    return run.info.run_id


def _retire_report_runs_in(experiment: str) -> None:
    """A report run an earlier compare left among the training runs is deleted (MLflow's delete:
    restorable from the experiment's deleted runs), saying so: its report is the one just logged."""
    import mlflow

    exp = mlflow.get_experiment_by_name(experiment)
    for old in mlflow.search_runs(
        [exp.experiment_id], filter_string=f"tags.{REPORT_TAG} = 'compare'", output_format="list"
    ):
        mlflow.delete_run(old.info.run_id)
        print(
            f"note: deleted the report run {old.info.run_id} from experiment {experiment}: compare "
            f"reports are now logged to the experiment {report_experiment(experiment)}"
        )


def _drop_stale(run, kept: set[str]) -> None:
    """The reused run's report files an earlier report made and this one does not (a plot it no
    longer draws) are deleted, so the run shows this report alone; a store that cannot delete says so."""
    import mlflow
    from mlflow.exceptions import MlflowException
    from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

    stale = [
        a.path for a in mlflow.MlflowClient().list_artifacts(run.info.run_id, "report") if a.path not in kept
    ]
    repo = get_artifact_repository(run.info.artifact_uri)
    for path in stale:
        try:
            repo.delete_artifacts(path)
        except (MlflowException, NotImplementedError, OSError) as exc:
            print(
                f"note: the report run keeps {path} from an earlier report (the store cannot delete: {exc})"
            )
