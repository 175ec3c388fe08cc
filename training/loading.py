"""Find a logged model and load it light: a local copy cached by version, no mlflow.pyfunc.

``models:/NAME@alias`` and ``models:/NAME/N`` are resolved to a version and the run that logged
it with one light query (the SQLite store's tables, or the tracking server's REST API; other
stores through MLflow's client); the version's files are downloaded once into
``.stance/model-cache/<store>/<NAME>/<version>`` (git-ignored) and the alias's version is noted
beside them, so a moved alias fetches the new version, a version number that now names another
run's model (the store made again: a new ``mlflow.db``'s version 1) fetches it afresh, and a store
that does not answer falls back to the copy last used, and says so.
The classifier is then loaded from the copy's ``artifacts/classifier`` folder, as the pyfunc
wrapper does, without importing mlflow.pyfunc (and, for kinds with an ONNX encoder, without
torch or transformers). ``mlflow models serve`` and ``spark_udf`` load the same logged model
through the pyfunc wrapper (training/pyfunc.py).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from stance import paths
from stance.errors import StanceError, redact
from stance.io import write_atomic
from stance.scheme import Scheme
from training import tracking

_REGISTERED = re.compile(r"models:/([^/@]+)(?:@([^/]+)|/(\d+))")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")  # models:/, runs:/, file:, s3://, ...
_FORMS = "models:/NAME@ALIAS, models:/NAME/VERSION, runs:/RUN_ID/model or a model's folder"


@dataclass
class Loaded:
    classifier: object
    version: str  # which model scored, in words
    inputs: list[str]  # the columns it reads: text, and context when its signature has it
    folder: Path  # the local copy
    trust: dict | None = None  # how far to trust each pair it calls (training/reliability.py)
    data_version: str | None = None  # the labeled data it was trained on
    cached: bool = False  # the copy kept from an earlier load: the tracking store did not answer
    identity: str = ""  # this saved model and no other: its MLmodel's model_uuid (else its folder)
    uri: str = ""  # this version as a URI that names no other (models:/NAME/VERSION, runs:/…, a folder)

    def predict(self, model_input):
        """What the logged pyfunc model returns for the same input (training/pyfunc.py)."""
        from training.outputs import score

        return score(self.classifier, model_input, self.trust)


def load_checked(model_uri: str, scheme: Scheme) -> Loaded:
    """The classifier of a logged model, after checking from its metadata that its scheme matches."""
    from training.recipes import load_classifier

    folder, what = local_copy(model_uri)
    mlmodel = read_mlmodel(folder)
    meta = mlmodel.get("metadata") or {}
    theirs = meta.get("scheme_hash")
    if theirs is None:
        raise StanceError(f"model '{model_uri}' records no label scheme; it is not a stance model")
    if theirs != scheme.hash:
        other = meta.get("scheme", {})
        raise StanceError(
            f"model '{model_uri}' was trained with a different label scheme ({theirs}: actors "
            f"{', '.join(other.get('actors', {}))}; stances {', '.join(other.get('stances', {}))}) "
            f"than configs/scheme.yaml ({scheme.hash}); retrain it or pick a matching model"
        )
    artifacts = mlmodel["flavors"]["python_function"]["artifacts"]
    details = [f"{k} {meta[k]}" for k in ("kind", "data_version") if meta.get(k)]
    details += [f"run {mlmodel['run_id']}"] if mlmodel.get("run_id") else []
    where = what[0] + (f": {', '.join(details)}" if details else "") + what[1]
    classifier = load_classifier(folder / artifacts["classifier"]["path"])
    return Loaded(
        classifier,
        where,
        _inputs(mlmodel),
        folder,
        _trust(folder, artifacts),
        meta.get("data_version"),
        cached=bool(what[1]),
        identity=mlmodel.get("model_uuid") or str(folder.resolve()),
        uri=str(folder.resolve()) if folder == Path(model_uri) else what[0].split(" (@")[0],
    )


def trust_of(model_uri: str, flavors: dict) -> dict | None:
    """A logged model's trust table alone (None for a model without one): read in place from a
    model folder, otherwise its one file fetched from the store, not the whole model (a Spark
    driver reads it where the executors load the model). ``flavors``: the model's MLmodel's."""
    import posixpath

    from training import reliability

    artifacts = flavors["python_function"].get("artifacts") or {}
    if Path(model_uri).is_dir():
        return _trust(Path(model_uri), artifacts)
    entry = artifacts.get(reliability.ARTIFACT)
    if not entry:
        return None
    import mlflow
    from mlflow.exceptions import MlflowException

    with tempfile.TemporaryDirectory() as tmp:
        try:
            got = mlflow.artifacts.download_artifacts(
                artifact_uri=posixpath.join(model_uri.rstrip("/"), entry["path"]), dst_path=tmp
            )
        except (MlflowException, OSError) as exc:
            raise StanceError(
                f"cannot read the trust table of model '{model_uri}': {tracking._first_line(exc)}"
            ) from None
        return json.loads(Path(got).read_text())


def _trust(folder: Path, artifacts: dict) -> dict | None:
    """How far to trust each pair the model calls, as its training run measured it; None for a
    model logged without it (an older one, or one whose run had no time split)."""
    from training import reliability

    entry = artifacts.get(reliability.ARTIFACT)
    path = folder / entry["path"] if entry else None
    return json.loads(path.read_text()) if path and path.is_file() else None


def read_mlmodel(folder: Path) -> dict:
    import yaml

    return yaml.safe_load((folder / "MLmodel").read_text())


def _inputs(mlmodel: dict) -> list[str]:
    """``text``, and ``context`` when the signature reads it (as training.pyfunc.input_columns)."""
    raw = (mlmodel.get("signature") or {}).get("inputs")
    names = [c.get("name") for c in json.loads(raw)] if raw else ["context"]
    return ["text", "context"] if "context" in names else ["text"]


# -- local copies ---------------------------------------------------------------------------
def cache_root(uri: str) -> Path:
    """Copies of one tracking store's models (two stores can both have a version 3)."""
    return paths.state() / "model-cache" / hashlib.sha256(uri.encode()).hexdigest()[:12]


def local_copy(model_uri: str) -> tuple[Path, tuple[str, str]]:
    """(a local folder holding the model, (what it is in words, a note on where it came from))."""
    if Path(model_uri).is_dir() and (Path(model_uri) / "MLmodel").is_file():
        return Path(model_uri), (model_uri, "")
    if not _SCHEME.match(model_uri):  # a path, or a name given without models:/
        if Path(model_uri).is_dir():
            raise StanceError(
                f"'{model_uri}' is a folder but not an MLflow model (no MLmodel file in it; a model is {_FORMS})"
            )
        if Path(model_uri).exists():
            raise StanceError(f"'{model_uri}' is a file, not a model (a model is {_FORMS})")
        if "/" not in model_uri:
            raise StanceError(
                f"cannot find model '{model_uri}': give a model as {_FORMS} "
                f"(the champion: models:/{model_uri}@champion)"
            )
        raise StanceError(f"cannot find model '{model_uri}': no such folder (a model is {_FORMS})")
    uri = tracking.tracking_uri()
    found = _REGISTERED.fullmatch(model_uri)
    if not found:
        return _download(model_uri, uri, cache_root(uri) / "uris" / _digest(model_uri)), (model_uri, "")
    name, alias, number = found.groups()
    folder = cache_root(uri) / name
    noted = folder / "aliases.json"
    try:
        version, run = _store_version(uri, name, alias, number, model_uri)
    except StanceError as exc:
        cached = number or _aliases(noted).get(alias)
        if not cached or not _unreachable(exc) or not (folder / cached / "MLmodel").is_file():
            raise
        what = f"models:/{name}/{cached}" + (f" (@{alias})" if alias else "")
        return folder / cached, (what, f"; the cached copy: tracking store {redact(uri)} not reachable")
    target = folder / version
    if (target / "MLmodel").is_file() and run and _copy_run(target) not in (run, None):
        _set_aside(target)  # version N of an earlier store (one made again): another model
    if not (target / "MLmodel").is_file():
        _download(f"models:/{name}/{version}", uri, target)
    if alias:
        write_atomic(noted, json.dumps(_aliases(noted) | {alias: version}, indent=2) + "\n")
    return target, (f"models:/{name}/{version}" + (f" (@{alias})" if alias else ""), "")


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _unreachable(exc: StanceError) -> bool:
    text = str(exc)
    return "is not reachable" in text or text.startswith("no MLflow store at")


def _aliases(noted: Path) -> dict[str, str]:
    """The version each alias pointed to when last asked, from the note beside the copies."""
    return json.loads(noted.read_text()) if noted.is_file() else {}


def _copy_run(folder: Path) -> str | None:
    """The run that logged a local copy (its MLmodel's ``run_id``), or None where it names none."""
    found = re.search(r"^run_id: *(\S+)", (folder / "MLmodel").read_text(errors="replace"), re.M)
    return found.group(1).strip("'\"") if found else None


def _set_aside(folder: Path) -> None:
    """Move a stale copy out of the way in one rename (a reader mid-load keeps its files), then drop it."""
    aside = folder.with_name(f".stale-{folder.name}-{os.getpid()}")
    try:
        os.replace(folder, aside)
    except FileNotFoundError:  # another process set it aside first
        return
    shutil.rmtree(aside, ignore_errors=True)


def _store_version(uri: str, name: str, alias: str | None, number: str | None, model_uri: str):
    """(the version, the run that logged it, or None where the store does not say) of a registered
    model's alias or number, asked the lightest way the store allows."""
    tracking.check_store(uri)
    try:
        if uri.startswith("sqlite:///"):
            found = _sqlite_version(uri, name, alias, number)
        elif uri.startswith(("http://", "https://")):
            found = _rest_version(uri, name, alias, number)
        else:
            found = _client_version(uri, name, alias, number)
    except StanceError:
        raise
    except Exception as exc:  # the store's own errors: one line
        raise tracking.store_error(exc, uri) or StanceError(
            f"MLflow tracking store {uri} is not usable: {tracking._first_line(exc)}"
        ) from None
    if found is None:
        what = "alias" if alias else "version"
        raise StanceError(
            f"cannot find model '{model_uri}' in {uri}: no such registered model or {what} {_hint(model_uri)}"
        )
    return str(found[0]), found[1] or None


def _sqlite_version(uri: str, name: str, alias: str | None, number: str | None):
    import sqlite3

    db = Path(uri.removeprefix("sqlite:///")).expanduser()
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        try:
            if alias:
                sql = (
                    "select a.version, v.run_id from registered_model_aliases a left join model_versions v"
                    " on v.name = a.name and v.version = a.version where a.name = ? and a.alias = ?"
                )
            else:
                sql = "select version, run_id from model_versions where name = ? and version = ?"
            row = con.execute(sql, (name, alias or int(number))).fetchone()
        except sqlite3.OperationalError:  # another schema: MLflow's client knows it
            return _client_version(uri, name, alias, number)
    return row


def _rest_version(uri: str, name: str, alias: str | None, number: str | None):
    """MLflow's REST API: GET registered-models/alias or model-versions/get (credentials from the
    URL's ``user:password@``, else from MLflow's own variables)."""
    import base64
    import urllib.error
    import urllib.parse
    import urllib.request

    parts = urllib.parse.urlsplit(uri)
    host = parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()  # urllib takes no user in a URL
    if alias:
        path, query = "registered-models/alias", {"name": name, "alias": alias}
    else:
        path, query = "model-versions/get", {"name": name, "version": number}
    request = urllib.request.Request(
        f"{host.rstrip('/')}/api/2.0/mlflow/{path}?{urllib.parse.urlencode(query)}"
    )
    token, user = os.environ.get("MLFLOW_TRACKING_TOKEN"), os.environ.get("MLFLOW_TRACKING_USERNAME")
    if parts.username is not None:  # as MLflow's client (requests) does, the URL's own credentials first
        pair = f"{urllib.parse.unquote(parts.username)}:{urllib.parse.unquote(parts.password or '')}"
    elif user is not None and not token:
        pair = f"{user}:{os.environ.get('MLFLOW_TRACKING_PASSWORD', '')}"
    else:
        pair = None
    if pair is not None:
        request.add_header("Authorization", "Basic " + base64.b64encode(pair.encode()).decode())
    elif token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            found = json.loads(response.read())["model_version"]
            return found["version"], found.get("run_id")
    except (
        json.JSONDecodeError,
        KeyError,
        TypeError,
        AttributeError,
    ):  # an HTML page, another service's JSON
        raise tracking.not_mlflow(uri, tracking.NOT_JSON) from None
    except urllib.error.HTTPError as exc:
        if exc.code in (400, 404):  # RESOURCE_DOES_NOT_EXIST / INVALID_PARAMETER_VALUE
            return None
        raise StanceError(f"MLflow tracking store {uri} answered HTTP {exc.code} ({exc.reason})") from None
    except (urllib.error.URLError, TimeoutError, ConnectionError):
        raise StanceError(
            f"MLflow tracking store {uri} is not reachable (is the tracking server running?)"
        ) from None


def _client_version(uri: str, name: str, alias: str | None, number: str | None):
    tracking.setup_uri(check=False)
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    try:
        client = MlflowClient()
        found = (
            client.get_model_version_by_alias(name, alias)
            if alias
            else client.get_model_version(name, number)
        )
        return found.version, found.run_id
    except MlflowException as exc:
        if tracking.store_error(exc, uri):
            raise
        return None


def _download(model_uri: str, uri: str, target: Path) -> Path:
    """Fetch a model's files once (into a temporary folder, then renamed: never half a copy)."""
    if (target / "MLmodel").is_file():
        return target
    tracking.setup_uri(check=model_uri.startswith(("models:/", "runs:/")))
    import mlflow
    from mlflow.exceptions import MlflowException

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=".download-"))
    try:
        got = Path(mlflow.artifacts.download_artifacts(artifact_uri=model_uri, dst_path=str(tmp)))
        if not (got / "MLmodel").is_file() and not any(got.iterdir()):
            raise StanceError(_no_files(model_uri, uri))
        if not (got / "MLmodel").is_file():
            raise StanceError(f"'{model_uri}' is not an MLflow model (no MLmodel file)")
        try:
            os.replace(got, target)  # runs:/ID/model arrives as tmp/model
        except OSError:
            if not (target / "MLmodel").is_file():  # not another process's copy that landed first
                raise
        shutil.rmtree(tmp, ignore_errors=True)
    except Exception as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, StanceError):
            raise
        if not isinstance(exc, MlflowException | OSError) and not tracking.store_error(exc, uri):
            raise
        raise tracking.store_error(exc, uri) or StanceError(
            f"cannot find model '{model_uri}' in {uri}: {tracking._first_line(exc)} {_hint(model_uri)}"
        ) from None
    return target


def _no_files(model_uri: str, uri: str) -> str:
    """The store knows the model, but where it keeps its files holds none: a store copied without
    its artifacts, or an mlruns folder moved or deleted (it read "not an MLflow model")."""
    where = ""
    try:
        from mlflow import MlflowClient

        client = MlflowClient()
        found = _REGISTERED.fullmatch(model_uri)
        if found and found.group(3):
            source = client.get_model_version(found.group(1), found.group(3)).source
            if source.startswith("models:/m-"):
                source = client.get_logged_model(source.removeprefix("models:/")).artifact_location
            where = f" ({source})"
    except Exception:  # the location is a help, not the error
        pass
    return (
        f"'{model_uri}': {redact(uri)} lists it, but its files are not where that store keeps them{where}: "
        "an artifact folder moved or deleted, or a copy of mlflow.db made without its mlruns folder"
    )


def _hint(model_uri: str) -> str:
    """What to do about a model that is not there: train the champion, or fix the URI one gave."""
    if model_uri == tracking.CHAMPION_URI:
        return "(train one with `stance train`, or pass --model)"
    return "(check the URI: `stance compare` lists the runs, the MLflow UI the registered versions)"
