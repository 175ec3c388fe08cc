"""What happens around a training run's end: an interruption ends it KILLED; a finished run's model
is registered, with tags and a description; a registered-model name is checked before anything."""

from __future__ import annotations

import re
from contextlib import contextmanager

from stance.errors import Interrupted, StanceError

_MODEL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")


def check_model_name(name: str) -> None:
    """A registered-model name that works in ``models:/NAME@champion``, checked before any run starts."""
    if not isinstance(name, str) or not _MODEL_NAME.fullmatch(name):
        raise StanceError(
            f"registered model name {name!r} is not valid: use 1-100 letters, digits, '-', '_' or '.', "
            "starting with a letter or digit (it becomes part of models:/NAME@champion)"
        )


def check_experiment_name(name: str) -> None:
    """An MLflow experiment name is any non-blank text; a blank one is refused before the data loads."""
    if not name.strip():
        raise StanceError("--experiment is blank: give the MLflow experiment's name (default 'stance')")


@contextmanager
def killed_if_interrupted(run):
    """Ctrl-C or SIGTERM inside a run: the run ends KILLED (not FAILED, never RUNNING) and a model
    it was logging is marked FAILED (not left PENDING); the interruption goes on to the CLI."""
    try:
        yield
    except (Interrupted, KeyboardInterrupt) as exc:
        import gc
        import signal
        import traceback

        # The signal may have cut a store write short: its connection, still in a write transaction,
        # lives on in the traceback's frames and would lock a SQLite store against the KILLED update
        # (seen under load: "database is locked" after 20 s). Free those frames first.
        traceback.clear_frames(exc.__traceback__)
        gc.collect()
        with _signals_ignored(signal.SIGINT, signal.SIGTERM):  # a second Ctrl-C does not cut the cleanup
            _end_killed(run.info.run_id, run.info.experiment_id)
        raise


@contextmanager
def _signals_ignored(*signals):
    import signal

    before = {s: signal.signal(s, signal.SIG_IGN) for s in signals}
    try:
        yield
    finally:
        for s, handler in before.items():
            signal.signal(s, handler)


def _end_killed(run_id: str, experiment_id: str) -> None:
    import mlflow
    from mlflow.entities import LoggedModelStatus

    client = mlflow.MlflowClient()
    try:
        pending = client.search_logged_models(
            experiment_ids=[experiment_id], filter_string=f"source_run_id = '{run_id}'"
        )
        for model in pending:
            if model.status == LoggedModelStatus.PENDING:
                client.finalize_logged_model(model.model_id, LoggedModelStatus.FAILED)
    finally:
        mlflow.end_run("KILLED")


def register(model_uri: str, name: str, run_id: str, tags: dict[str, str], figures: list[str]) -> str:
    """Register a finished run's model under ``name`` with tags and a description; its version.

    The description names the recipe, data and run, then ``figures`` (the run's figures as its own
    description lists them: each with its interval, the champion rule's first), so the registry page
    and the run page give one figure under one name. A registered model without a description gets
    one saying what any version of it is.
    """
    import mlflow

    version = mlflow.register_model(model_uri, name, tags=tags).version
    what = ", ".join(f"{k} {tags[k]}" for k in ("recipe", "kind", "encoder", "data_version") if k in tags)
    client = mlflow.MlflowClient()
    client.update_model_version(name, version, description="\n".join([f"{what}; run {run_id}", "", *figures]))
    if not client.get_registered_model(name).description:  # one a user wrote is theirs to keep
        client.update_registered_model(name, description=about_model())
    return str(version)


def about_model() -> str:
    """A registered model's description: what goes in and comes out, and what its aliases mean."""
    from stance.scheme import Scheme

    scheme = Scheme.load()
    actors = ", ".join(a for a in scheme.actor_labels if a != scheme.none)
    stances = ", ".join(s for s in scheme.stance_labels if s != scheme.none)
    return (
        f"Who takes which stance: for each sentence, its actor ({actors}) and stance ({stances}), "
        f"or {scheme.none}, with probabilities (configs/scheme.yaml; each version records its hash). Input: a "
        "DataFrame with `text` (and optionally `context`, the article's preceding sentences); output: "
        "`actor`, `stance`, the pair's confidence `p`, one probability column per class, the parse's "
        "holder and `pair_right` (how often the pair's calls were right on articles the model never "
        "saw). `champion` is the version the champion rule put first (the rolling origin's stance "
        "macro-F1 and actor accuracy end to end, paired by article: a clear gain on one, the other not "
        'clearly worse; README, "Time split, intervals and the champion rule"), `challenger` '
        "the latest that did not beat it. Each version's description gives its recipe, data version "
        "and figures with 90 % intervals by article; its run holds the rest."
    )


def tag_run(run_id: str, key: str, value: str) -> None:
    import mlflow

    mlflow.MlflowClient().set_tag(run_id, key, value)
