"""MLflow: where runs go, what identifies them, and who holds the ``champion`` alias."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from stance import paths
from stance.errors import StanceError, redact
from stance.registry import CHAMPION_URI, REGISTERED_MODEL  # noqa: F401  (training imports them from here)

EXPERIMENT = "stance"
CHAMPION, CHALLENGER = "champion", "challenger"
# the tags that say why a version holds its alias: training's verdict, then promote's
REGISTRY_DECISION, PROMOTION_DECISION = "registry_decision", "promotion_decision"
NOTE = "mlflow.note.content"  # the tag MLflow shows as a run's description on its page
# the champion rule's first figure, runs are ranked by it (training/champion.py): stance macro-F1 over
# the rolling origin's pooled blocks; for a run logged before them, over the time split
SELECTION_METRICS = ("rolling_stance_macro_f1", "time_stance_macro_f1")


def selection(metrics: dict) -> tuple[int, str, float] | None:
    """(rank of the figure: 0 rolling origin, 1 time split; its name; its value), or None without either."""
    for rank, name in enumerate(SELECTION_METRICS):
        if name in metrics and metrics[name] == metrics[name]:  # not NaN
            return rank, name, float(metrics[name])
    return None


def tracking_uri() -> str:
    """``MLFLOW_TRACKING_URI`` if set, else a SQLite file in the project root."""
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{paths.mlflow_db()}"


def shown_uri() -> str:
    """The tracking URI as a command prints it: a password in it (``http://me:secret@host``, a
    database URI's) as ``***``, as error lines show it, so a CI log never holds it."""
    return redact(tracking_uri())


def setup_uri(create: bool = False, check: bool = True) -> str:
    """Point MLflow at the project's store; the URI. Only ``create`` (training) may start a new
    SQLite store, and only in a folder that exists: a mistyped path is an error, not a new database."""
    uri = tracking_uri()
    if check:
        check_store(uri, create)
    quiet_mlflow()
    import mlflow

    mlflow.set_tracking_uri(uri)
    return uri


SQLITE_HEADER = b"SQLite format 3\x00"


def check_store(uri: str, create: bool = False) -> None:
    """A SQLite store must be a SQLite file (not a corrupt or foreign one) and, to be read, exist."""
    if not uri.startswith("sqlite:///"):
        return
    db = Path(uri.removeprefix("sqlite:///")).expanduser()
    if not db.exists():
        if not create:
            raise StanceError(
                f"no MLflow store at {db}: train a model first (`stance train`), or check MLFLOW_TRACKING_URI"
            )
        if not db.parent.is_dir():
            raise StanceError(
                f"cannot create the MLflow store {db}: the folder {db.parent} does not exist "
                "(check MLFLOW_TRACKING_URI)"
            )
        return
    try:
        with open(db, "rb") as fh:
            head = fh.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise StanceError(f"cannot read the MLflow store {db} ({exc.strerror or exc})") from None
    if head and head != SQLITE_HEADER:  # SQLite itself treats an empty file as an empty database
        raise StanceError(f"MLflow store {db} is not an SQLite database (corrupt, or another file)")


def setup(experiment: str = EXPERIMENT) -> str:
    """Point MLflow at the store and make sure the experiment exists; its id."""
    uri = setup_uri(create=True)  # before importing mlflow: quiet_mlflow sets what mlflow reads at import
    import mlflow

    try:
        found = mlflow.get_experiment_by_name(experiment)
        if found is not None:
            return found.experiment_id
        return mlflow.create_experiment(experiment, artifact_location=artifact_location(uri))
    except Exception as exc:  # an unreachable server or a broken store
        if isinstance(exc, StanceError):
            raise
        raise store_error(exc, uri) or StanceError(
            f"MLflow tracking store {uri} is not usable: {_first_line(exc)}"
        ) from None


def artifact_location(uri: str) -> str | None:
    """Artifacts of a SQLite store sit beside its database file, whatever the caller's directory.

    MLflow's own default is ``./mlruns`` under the current directory; a tracking
    server decides for itself (None).
    """
    if uri.startswith("sqlite:///"):
        db = Path(uri.removeprefix("sqlite:///")).expanduser().resolve()  # as SQLite resolves it
        return (db.parent / "mlruns").as_uri()
    return None


@contextmanager
def store_calls():
    """A command's calls to the store: a server that does not answer, or a damaged store, is the
    one line :func:`store_error` gives, not MLflow's traceback."""
    try:
        yield
    except StanceError:
        raise
    except Exception as exc:
        if (err := store_error(exc, tracking_uri())) is not None:
            raise err from None
        raise


def store_error(exc: Exception, uri: str) -> StanceError | None:
    """The one line for a tracking server that does not answer, one that fails, an address that
    answers as no MLflow server does, or a store that is broken; None otherwise."""
    text = str(exc)
    if failing := re.search(r"too many (5\d\d) error responses", text):  # retried, then given up
        return StanceError(
            f"MLflow tracking store {uri} answers HTTP {failing[1]}: the server is up but failing (see its log)"
        )
    if denied := re.search(r"failed with error code (40[13])", text):
        return StanceError(
            f"MLflow tracking store {uri} refused the credentials (HTTP {denied[1]}): set "
            "MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD, or MLFLOW_TRACKING_TOKEN"
        )
    if other := re.search(r"failed with error code (\d{3})|(response body was not in a valid JSON)", text):
        return not_mlflow(uri, f"HTTP {other[1]} on MLflow's API" if other[1] else NOT_JSON)
    if any(s in text for s in ("Max retries exceeded", "NewConnectionError", "Connection refused")):
        return StanceError(f"MLflow tracking store {uri} is not reachable (is the tracking server running?)")
    if any(s in text for s in ("malformed", "not a database", "DatabaseError", "no such table")):
        return StanceError(
            f"MLflow tracking store {uri} is not usable (a damaged database?): {_first_line(exc)}"
        )
    return None


NOT_JSON = "a page that is not MLflow's JSON"


def not_mlflow(uri: str, answers: str) -> StanceError:
    """An address that answers, but as no MLflow tracking server does (a web page, a 404)."""
    return StanceError(
        f"MLflow tracking store {uri} is not an MLflow tracking server (it answers {answers}): "
        "set MLFLOW_TRACKING_URI to the server's address"
    )


def quiet_mlflow() -> None:
    """Keep MLflow's chatter (telemetry, progress bars, hints for other workflows) off our output.

    Also fail fast on a tracking server that does not answer: MLflow's default retries
    a refused connection with growing pauses for about four minutes.
    """
    import logging
    import warnings

    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "1")

    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    # a run ended on a tracking server printed "View run ... at: <the tracking URI>/#/...", a password
    # in the URI (http://me:secret@host) as it stands; the commands name the store themselves, as ***
    os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")  # read when mlflow is first imported
    warnings.filterwarnings("ignore", category=FutureWarning, module="mlflow")
    logging.getLogger("alembic").setLevel(logging.WARNING)


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else exc.__class__.__name__


def git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=paths.code(), capture_output=True, text=True, timeout=5
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=paths.code(), capture_output=True, text=True, timeout=5,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    if out.returncode:
        return "unknown"
    return out.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


def source_digest(patterns, root: Path | None = None) -> str:
    """SHA-256 of the source files the glob ``patterns`` match under ``root`` (the checkout): each
    file's path and contents, pattern by pattern, sorted within each."""
    root = root or paths.code()
    digest = hashlib.sha256()
    for pattern in patterns:
        for path in sorted(root.glob(pattern)):
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


SOURCE_PACKAGES = (
    "stance",
    "training",
    "labeling",
)  # the project's code (a cluster's executors get them too)


def code_version() -> str:
    """Hash of the project's Python sources: identifies the code even without git."""
    return source_digest(tuple(f"{package}/**/*.py" for package in SOURCE_PACKAGES))[:12]


@contextmanager
def study_run(experiment_id: str, run_name: str, match: dict[str, str], tags: dict, params: dict):
    """The MLflow run of one study entry: the run whose tags and params equal ``match``
    (``{"tags.recipe": ..., "params.blocks": ...}``) and whose params are ``params``, so a re-run of
    the study updates it; else a new run, given ``params`` (a recipe file edited since is a new run:
    MLflow keeps a run's params, and the old ones would stand beside the new figures). ``tags`` are
    set either way, with the code that made the figures (``git_commit``, ``code_version``). The
    study's experiment becomes the active one: MLflow refuses to resume a run outside the active
    experiment, which a caller (a notebook, an earlier ``mlflow.set_experiment``) may have set elsewhere."""
    import mlflow

    query = " AND ".join(f"{k} = '{v}'" for k, v in match.items())
    logged = {k: str(v) for k, v in params.items()}  # as MLflow writes a param
    earlier = [
        r for r in mlflow.search_runs([experiment_id], query, output_format="list") if r.data.params == logged
    ]
    run_id = earlier[0].info.run_id if earlier else None
    mlflow.set_experiment(experiment_id=experiment_id)
    with mlflow.start_run(run_id=run_id, experiment_id=experiment_id, run_name=run_name) as run:
        mlflow.set_tags(tags | {"git_commit": git_commit(), "code_version": code_version()})
        if run_id is None:
            mlflow.log_params(params)
        yield run


def split_hash(meta: dict) -> str:
    """A dataset's time split in 12 hex digits: its ``meta.json`` record of the split (the test share,
    the article dates' hash, the cutoff, the test articles and the undated ones). ``stance
    build-dataset --test-share`` rebuilds a dataset under the same data version with another test
    set; this tells the two apart (a run's ``split_hash`` tag)."""
    blob = json.dumps(meta.get("time_split", {}), sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def split_words(meta: dict) -> str:
    """The time split in words, as the skip message names it: "44 newest articles, test share 0.2"."""
    split = meta.get("time_split", {})
    articles = meta.get("articles", {}).get("test", len(split.get("test_articles", [])))
    share = split.get("test_share")
    return f"{articles} newest articles" + (f", test share {share:g}" if share is not None else "")


def find_identical_run(experiment_id: str, tags: dict[str, str]):
    """A finished run with the same recipe, data, time split and code (and spec entry and share), if
    one exists. A run logged before the ``split_hash`` tag has none, so it is never identical."""
    import mlflow

    keys = ["recipe_hash", "data_version", "split_hash", "code_version", "scheme_hash", "train_share"]
    keys += ["spec_entry"] if "spec_entry" in tags else []  # an experiment's entry is part of its identity
    keys += ["gazetteer_hash"] if "gazetteer_hash" in tags else []  # so is the gazetteer a recipe reads
    query = " and ".join(f"tags.{k} = '{tags[k]}'" for k in keys)
    runs = mlflow.search_runs(
        [experiment_id], filter_string=query + " and attributes.status = 'FINISHED'",
        max_results=1, output_format="list",
    )  # fmt: skip
    return runs[0] if runs else None


def crown(name: str, version: str, run_id: str, data_version: str) -> str:
    """Give ``champion`` to a new model version when the champion rule says so (training/champion.py).

    Otherwise the version becomes ``challenger``. Returns the decision in words,
    which is also recorded on the run.
    """
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    from stance.scheme import Scheme
    from training import champion

    client = MlflowClient()
    try:
        champ = client.get_model_version_by_alias(name, CHAMPION)
    except MlflowException:
        champ = None
    reference = client.get_run(champ.run_id) if champ is not None else None
    verdict = champion.judge(client.get_run(run_id), reference, Scheme.load().stance_labels)
    alias = CHAMPION if verdict.promote else CHALLENGER
    client.set_registered_model_alias(name, alias, version)
    if champ is None:
        against = ""
    elif verdict.promote:
        against = f" over v{champ.version}"
    else:  # the run alone says which model it lost to, not only "the champion's" figure
        tags = reference.data.tags
        who = tags.get("entry") or tags.get("recipe") or reference.info.run_name
        against = f": champion v{champ.version} ({who}, run {champ.run_id[:8]}) keeps its place"
    decision = f"version {version} (data {data_version}) is {alias}{against}: {verdict.why}"
    record_decision(client, REGISTRY_DECISION, run_id, name, version, decision)
    return decision


def record_decision(client, tag: str, run_id: str, name: str, version: str, decision: str) -> None:
    """A decision on a registered version, on its run's page and the version's registry page (which
    showed the aliases and nothing of why a version held them)."""
    client.set_tag(run_id, tag, decision)
    client.set_model_version_tag(name, version, tag, decision)


def epoch_logger(prefix: str):
    """A transformers callback logging each evaluation to the active MLflow run, per epoch."""
    import mlflow
    from transformers import TrainerCallback

    class EpochLogger(TrainerCallback):
        def on_evaluate(self, args, state, control, metrics=None, **kwargs):
            if mlflow.active_run() is None or not metrics:
                return
            step = int(round(state.epoch or 0))
            values = {f"{prefix}_{k}": float(v) for k, v in metrics.items() if isinstance(v, int | float)}
            mlflow.log_metrics(values, step=step)

        def on_log(self, args, state, control, logs=None, **kwargs):
            if mlflow.active_run() is not None and logs and "loss" in logs:
                mlflow.log_metric(
                    f"{prefix}_train_loss", float(logs["loss"]), step=int(round(state.epoch or 0))
                )

    return EpochLogger()


def ui_cli(
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port on 127.0.0.1.")] = 5000,
) -> None:
    """Open the MLflow UI on the project's store: loopback only, one worker; prints the URL."""
    uri = tracking_uri()
    if not uri.startswith("sqlite:///"):
        raise StanceError(f"MLFLOW_TRACKING_URI is {uri}: that server has its own UI; open it there")
    check_store(uri)  # the server would create a mistyped path's folders and an empty store there
    from stance.stack_proc import _port_taken

    if _port_taken(port):  # the server would log the error among its start-up lines and exit 0
        raise StanceError(
            f"port {port} on 127.0.0.1 is already taken by another program: free it, or choose another "
            "with --port"
        )
    print(f"MLflow UI: http://127.0.0.1:{port}  (store: {uri}; Ctrl-C stops it)", flush=True)
    env = os.environ | {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false", "MLFLOW_DISABLE_TELEMETRY": "true"}
    command = [
        str(Path(sys.executable).with_name("mlflow")), "server", "--host", "127.0.0.1", "--port", str(port),
        "--workers", "1", "--backend-store-uri", uri, "--default-artifact-root", artifact_location(uri),
    ]  # fmt: skip
    os.execve(command[0], command, env)  # the server replaces this process: Ctrl-C and kill reach it


if __name__ == "__main__":
    from stance.runner import run

    run(ui_cli)
