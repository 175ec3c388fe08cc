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


def register(model_uri: str, name: str, run_id: str, tags: dict[str, str]) -> str:
    """Register a finished run's model under ``name`` with a description and tags; its version."""
    import mlflow

    version = mlflow.register_model(model_uri, name, tags=tags).version
    description = ", ".join(
        f"{k} {tags[k]}" for k in ("recipe", "kind", "encoder", "data_version") if k in tags
    )
    figures = ", ".join(f"{k} {tags[k]}" for k in ("stance_macro_f1", "actor_accuracy") if k in tags)
    rolling = ", ".join(  # the figures the champion rule reads, first where the run has them
        f"{k.removeprefix('rolling_')} {v}" for k, v in tags.items() if k.startswith("rolling_")
    )
    mlflow.MlflowClient().update_model_version(
        name,
        version,
        description=f"{description}; {f'rolling origin {rolling}; ' if rolling else ''}"
        f"grouped-CV {figures}; run {run_id}",
    )
    return str(version)


def tag_run(run_id: str, key: str, value: str) -> None:
    import mlflow

    mlflow.MlflowClient().set_tag(run_id, key, value)
