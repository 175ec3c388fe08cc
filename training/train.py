"""Train a recipe: grouped CV for honest figures, then a final fit on all data, all in MLflow.

Its parts: the grouped CV is training/train_cv.py, the held-out figures over time (time split,
rolling origin, trust) training/train_timesplit.py, and the run's figures in words (the printed
lines, the run's description, the registered version's tags) training/run_figures.py.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from stance import paths
from stance.errors import StanceError
from stance.scheme import Scheme
from training import dataset, evaluate, registry, tracking, train_cv, train_timesplit
from training.logged_model import log_model
from training.models import encoding_cache
from training.recipes import load_recipe, make_classifier, reads_gazetteer, recipe_hash
from training.run_figures import describe, figure_bullets, figure_lines, version_tags


@encoding_cache.enabled()
def train(
    recipe_path: Path,
    data_version: str | None = None,
    experiment: str = tracking.EXPERIMENT,
    registered_model: str = tracking.REGISTERED_MODEL,
    force: bool = False,
    quiet: bool = False,
    *,
    overrides: dict | None = None,
    tags: dict[str, str] | None = None,
    train_share: float = 1.0,
    final_fit: bool = True,
    crown: bool = True,
    progress=None,
) -> dict:
    """Run one recipe end to end; returns a summary (run id, metrics, registry decision).

    Experiments use the keyword arguments: ``overrides`` on the recipe's keys, extra
    ``tags`` (a ``spec_entry`` tag becomes part of the run's identity), ``train_share``
    of the training articles per fold (learning-curve points), ``final_fit=False`` for
    CV only (no model), ``crown=False`` to register without touching the aliases, and
    a rich ``progress`` to show the folds in. A frozen encoder's outputs are kept on disk
    for the next run (training/models/encoding_cache.py).
    """
    scheme = Scheme.load()
    recipe = load_recipe(recipe_path, overrides)
    registry.check_model_name(registered_model)
    registry.check_experiment_name(experiment)
    configs = _configs_read_by(recipe, scheme)  # checked before any work
    dd, meta = dataset.load(data_version, scheme)
    data = _all_articles(dd)
    try:  # rules that need the data's size, before any run starts
        recipe.check_data(len(data), len(set(data["article"])), train_share)
    except StanceError as exc:
        raise StanceError(f"{recipe_path}: {exc}") from None
    experiment_id = tracking.setup(experiment)
    tags = (
        _tags(recipe_path, recipe, meta, scheme)
        | configs
        | {"train_share": f"{train_share:g}"}
        | (tags or {})
    )
    if not force and (existing := tracking.find_identical_run(experiment_id, tags)):
        same = (
            f"recipe {tags['recipe']} ({tags['recipe_hash']}), data {meta['data_version']}, time split "
            f"({tracking.split_words(meta)}) and code {tags['code_version']}"
        )
        out = {
            "run_id": existing.info.run_id,
            "skipped": True,
            "metrics": existing.data.metrics,
            "same": same,
        }
        if (
            final_fit and tracking.REGISTRY_DECISION not in existing.data.tags
        ):  # interrupted before its verdict
            out |= _finish_judging(existing, recipe_path, recipe, meta, tags, registered_model, crown)
        return out

    import mlflow

    name = _run_name(tags.get("spec_entry", Path(recipe_path).stem), meta, train_share)
    with (
        mlflow.start_run(experiment_id=experiment_id, run_name=name) as run,
        registry.killed_if_interrupted(run),
    ):
        mlflow.set_tags(tags)
        mlflow.log_params(_params(recipe, meta, data) | {"train_share": train_share})
        _log_inputs(recipe_path, recipe, meta, dd)
        cv = train_cv.cross_validate(recipe, data, scheme, quiet, progress, train_share)
        summary = evaluate.summarize(cv, data, scheme) | train_cv.cv_intervals(cv, data, scheme)
        mlflow.log_metrics(summary | train_cv.cv_sizes(cv))
        train_cv.log_folds(cv)
        train_cv.log_reports(cv, data, scheme)
        trust = None
        if train_share >= 1:  # learning-curve points are CV only
            figures, trust = train_timesplit.evaluate(recipe, dd, data, scheme, meta["data_version"])
            summary |= figures
        out = {"run_id": run.info.run_id, "skipped": False, "metrics": summary}
        if not final_fit:
            decision = "cross-validation only: no final fit, no model"
            mlflow.set_tag(tracking.REGISTRY_DECISION, decision)
            describe(run.info.run_id, recipe_path, recipe, meta, summary, decision, tags.get(tracking.NOTE))
            return out
        model, seconds = _fit_final(recipe, data, scheme)
        mlflow.log_metric("train_seconds", seconds)
        # what a kind's final fit chose, if anything (the hybrid: its attention head's temperature)
        mlflow.log_metrics(getattr(model, "fit_metrics", dict)())
        info = log_model(model, scheme, recipe, meta, data[:3], trust)
    # the run has FINISHED: only now is its model registered and an alias moved
    version = registry.register(
        info.model_uri, registered_model, run.info.run_id, version_tags(recipe, tags, summary),
        figure_bullets(summary, recipe.cv_folds),
    )  # fmt: skip
    if crown:
        decision = tracking.crown(registered_model, version, run.info.run_id, meta["data_version"])
    else:
        decision = f"registered as version {version}; aliases left to `stance promote`"
        registry.tag_run(run.info.run_id, tracking.REGISTRY_DECISION, decision)
    describe(
        run.info.run_id,
        recipe_path,
        recipe,
        meta,
        summary,
        f"{registered_model}: {decision}",
        tags.get(tracking.NOTE),
    )
    return out | {"model_uri": f"models:/{registered_model}/{version}", "decision": decision}


def _finish_judging(
    run, recipe_path: Path, recipe, meta: dict, tags: dict, registered_model: str, crown: bool
):
    """Finish the job of a run that FINISHED but whose model was never judged: Ctrl-C after the run
    ended and before its verdict leaves the version READY without an alias or ``registry_decision``
    (or the model not yet registered). Register the run's model if it is not, then crown it (or, with
    ``crown=False``, leave it registered), as the interrupted train would have; nothing is retrained.
    A version that holds an alias already keeps it: the decision is recorded as it stands. ``{}`` when
    the run has no model to register (nothing to finish)."""
    from mlflow import MlflowClient

    client = MlflowClient()
    run_id = run.info.run_id
    versions = [v for v in client.search_model_versions(f"run_id = '{run_id}'") if v.name == registered_model]
    if versions:
        version = str(min(int(v.version) for v in versions))
    else:
        logged = [
            m
            for m in client.search_logged_models(
                experiment_ids=[run.info.experiment_id], filter_string=f"source_run_id = '{run_id}'"
            )
            if str(m.status).endswith("READY")
        ]
        if not logged:
            return {}
        version = registry.register(
            f"models:/{logged[0].model_id}", registered_model, run_id,
            version_tags(recipe, tags, run.data.metrics), figure_bullets(run.data.metrics, recipe.cv_folds),
        )  # fmt: skip
    data_version = meta["data_version"]
    if aliases := client.get_model_version(registered_model, version).aliases:
        decision = (
            f"version {version} (data {data_version}) is {', '.join(sorted(aliases))} (its alias, kept)"
        )
        registry.tag_run(run_id, tracking.REGISTRY_DECISION, decision)
    elif crown:
        decision = tracking.crown(registered_model, version, run_id, data_version)
    else:
        decision = f"registered as version {version}; aliases left to `stance promote`"
        registry.tag_run(run_id, tracking.REGISTRY_DECISION, decision)
    describe(
        run_id, recipe_path, recipe, meta, run.data.metrics, f"{registered_model}: {decision}",
        tags.get(tracking.NOTE),
    )  # fmt: skip
    return {"model_uri": f"models:/{registered_model}/{version}", "decision": decision, "judged_now": True}


def _all_articles(dd):
    """CV runs over every article; the time split (train/test by date) is evaluated apart."""
    from datasets import concatenate_datasets

    return concatenate_datasets([dd["train"], dd["test"]])


def _tags(recipe_path: Path, recipe, meta: dict, scheme: Scheme) -> dict[str, str]:
    return {
        "recipe": Path(recipe_path).stem,
        "kind": recipe.kind,
        "recipe_hash": recipe_hash(recipe),
        "data_version": meta["data_version"],
        "split_hash": tracking.split_hash(meta),  # the time split's test set: part of the run's identity
        "scheme_hash": scheme.hash,
        "git_commit": tracking.git_commit(),
        "code_version": tracking.code_version(),
    }


def _configs_read_by(recipe, scheme: Scheme) -> dict[str, str]:
    """Tags naming the project configs a recipe reads besides itself (the gazetteer), by content.

    Reading them here refuses a bad file before any work, and a changed file makes a new run (a
    blend's too, whose hybrid member reads the gazetteer).
    """
    if not reads_gazetteer(recipe):
        return {}
    from training.models import gazetteer

    return {"gazetteer_hash": gazetteer.digest(gazetteer.load(list(scheme.actors)))}


def _run_name(entry: str, meta: dict, train_share: float = 1.0) -> str:
    share = "" if train_share >= 1.0 else f"-{train_share:.0%}"
    return f"{entry}{share}@{meta['data_version']}"


def _params(recipe, meta: dict, data) -> dict:
    params = {
        k: json.dumps(v) if isinstance(v, list | tuple | dict) else v for k, v in recipe.model_dump().items()
    }
    return params | {
        "data_version": meta["data_version"],
        "sentences": len(data),
        "articles": len(set(data["article"])),
    }


def _log_inputs(recipe_path: Path, recipe, meta: dict, dd) -> None:
    """What the run read, where MLflow shows it: the recipe file as written and as it ran (an
    experiment's overrides applied), and the data as MLflow datasets (the run page's Datasets,
    ``run.inputs``), its version the digest, its sentences' labels the schema. They were tags and
    params only, so the runs table could not list the data a run used."""
    import warnings

    import mlflow

    mlflow.log_artifact(str(recipe_path), "recipe")
    mlflow.log_dict(recipe.model_dump(mode="json"), "recipe/resolved.json")
    source = str(paths.snapshots() / meta["snapshot"]) if meta.get("snapshot") else None
    columns = ["sentence_id", "article", "date", "text", "actor", "stance"]
    for split, context in (("train", "train: older or undated"), ("test", "test: the time split's newest")):
        rows = dd[split].select_columns(columns)
        frame = rows.to_pandas()
        for label in ("actor", "stance"):  # the labels' names, not their indices
            frame[label] = rows.features[label].int2str(list(frame[label]))
        with warnings.catch_warnings():  # a local file matches two of MLflow's own source kinds: it says so
            warnings.simplefilter("ignore", UserWarning)
            data = mlflow.data.from_pandas(
                frame, source=source, targets="stance", name=f"stance-{meta['data_version']}-{split}",
                digest=meta["data_version"],
            )  # fmt: skip
        mlflow.log_input(data, context=context)


def _fit_final(recipe, data, scheme: Scheme):
    import numpy as np

    t0 = time.perf_counter()
    model = train_cv.with_epoch_logging(make_classifier(recipe, scheme), "final").fit(
        list(data["text"]), np.array(data["actor"]), np.array(data["stance"]), groups=list(data["article"]),
        contexts=evaluate.contexts_of(data), dates=evaluate.dates_of(data),
    )  # fmt: skip
    return model, time.perf_counter() - t0


def cli(
    recipe: Annotated[
        Path, typer.Argument(help="Recipe YAML in configs/ (e.g. configs/baseline.yaml).")
    ] = Path("configs/baseline.yaml"),
    data_version: Annotated[
        str | None, typer.Option(help="Dataset version to train on [default: the latest built].")
    ] = None,
    experiment: Annotated[str, typer.Option(help="MLflow experiment name.")] = tracking.EXPERIMENT,
    registered_model: Annotated[str, typer.Option(help="Registered model name.")] = tracking.REGISTERED_MODEL,
    force: Annotated[bool, typer.Option(help="Train even if an identical run exists.")] = False,
) -> None:
    """Train a recipe with grouped cross-validation, log it to MLflow and register the model."""
    if not recipe.is_absolute() and not recipe.exists():
        recipe = paths.root() / recipe
    out = train(recipe, data_version, experiment, registered_model, force)
    m = out["metrics"]
    if out["skipped"]:
        print(f"an identical run exists ({out['run_id']}): same {out['same']}; --force to retrain")
        if out.get("judged_now"):  # its train was interrupted between registering and the verdict
            print(
                f"its model had not been judged (the train was interrupted): {out['model_uri']}; {out['decision']}"
            )
    else:
        print("\n".join(figure_lines(m, load_recipe(recipe).cv_folds)))
        print(f"run {out['run_id']} -> {out['model_uri']}; {out['decision']}")
    print(f"tracking: {tracking.shown_uri()}")
    if data_version is None and (note := dataset.latest_built_note()):  # `build-dataset --snapshot OLD`
        print(f"note: {note}", file=sys.stderr)


if __name__ == "__main__":
    from stance.runner import run

    run(cli)
