"""MLflow tracking: where runs go, broken stores as one line, what identifies a run, who is champion."""

import mlflow
import pytest
from mlflow import MlflowClient

from stance import paths
from tests.conftest import free_port, run_cli
from training import tracking
from training.train import train

ARTICLE = "seeds/001_64535fbd2cbe07ec.txt"


def test_the_store_is_the_project_roots_sqlite_file_unless_mlflow_tracking_uri_says(monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI")
    assert tracking.tracking_uri() == f"sqlite:///{paths.root() / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5055")
    assert tracking.tracking_uri() == "http://127.0.0.1:5055"


def test_a_sqlite_stores_artifacts_sit_beside_it_and_a_server_decides_its_own(tmp_path):
    assert (
        tracking.artifact_location(f"sqlite:///{tmp_path}/sub/../mlflow.db") == (tmp_path / "mlruns").as_uri()
    )
    assert tracking.artifact_location("http://127.0.0.1:5055") is None


def test_store_failures_are_named_in_one_line():
    uri = "http://127.0.0.1:1"
    refused = tracking.store_error(
        Exception("HTTPConnectionPool: Max retries exceeded (Connection refused)"), uri
    )
    assert str(refused) == f"MLflow tracking store {uri} is not reachable (is the tracking server running?)"
    broken = tracking.store_error(
        Exception("(sqlite3.DatabaseError) file is not a database\nmore"), "sqlite:///x"
    )
    assert str(broken) == (
        "MLflow tracking store sqlite:///x is not usable (a damaged database?): "
        "(sqlite3.DatabaseError) file is not a database"
    )
    assert tracking.store_error(Exception("something else"), uri) is None


def test_a_corrupt_store_is_one_error_line(monkeypatch, tmp_path):
    db = tmp_path / "mlflow.db"
    db.write_bytes(b"this is not a database\n" * 100)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{db}")
    out = run_cli("predict", str(paths.root() / ARTICLE))
    assert out.returncode == 2
    assert out.stderr.decode().strip().splitlines() == [
        f"error: MLflow store {db} is not an SQLite database (corrupt, or another file)"
    ]


@pytest.mark.parametrize("command", ["predict", "compare", "promote"])
def test_a_mistyped_store_path_creates_nothing(command, monkeypatch, tmp_path):
    db = tmp_path / "typo.db"  # in a folder that exists: only `train` may create a store
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{db}")
    argv = {"predict": ["predict", str(paths.root() / ARTICLE)]}.get(command, [command, "stance"])
    out = run_cli(*argv)
    assert out.returncode == 2
    assert out.stderr.decode().strip().splitlines() == [
        f"error: no MLflow store at {db}: train a model first (`stance train`), or check MLFLOW_TRACKING_URI"
    ]
    assert not db.exists()


@pytest.mark.parametrize("command", ["train", "predict", "compare", "promote"])
def test_an_unreachable_mlflow_store_is_one_error_line(command, monkeypatch, tmp_path, trained):
    """The line names the store with its password as ***, and nothing else shows the password: MLflow's
    own message for a server that does not answer ("API request to http://me:secret@127.0.0.1:.../api/
    2.0/... failed") holds the URI as it stands."""
    port = free_port()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://me:secret@127.0.0.1:{port}")
    uri = f"http://me:***@127.0.0.1:{port}"
    argv = {
        "train": ["train", "configs/test-baseline.yaml"],
        "predict": [
            "predict",
            str(paths.root() / "seeds" / "001_64535fbd2cbe07ec.txt"),
            "-o",
            str(tmp_path / "o"),
        ],
        "compare": ["compare", "stance", "--out", str(tmp_path / "o")],
        "promote": ["promote", "stance"],
    }[command]
    out = run_cli(*argv)
    assert out.returncode == 2, out.stderr.decode()
    (line,) = out.stderr.decode().strip().splitlines()
    assert line == f"error: MLflow tracking store {uri} is not reachable (is the tracking server running?)"
    assert b"secret" not in out.stdout + out.stderr
    assert not (tmp_path / "o").exists()


@pytest.fixture
def wrong_server():
    """A real HTTP server on loopback that answers every request with the status and body it is set to:
    a web page where MLflow is not, a proxy that wants a login, an MLflow server that is failing."""
    import http.server
    import threading

    answer = {"status": 200, "body": b""}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(answer["status"])
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(answer["body"])))
            self.end_headers()
            self.wfile.write(answer["body"])

        do_POST = do_PATCH = do_GET  # noqa: N815

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], answer
    server.shutdown()


WRONG_ANSWERS = {  # status, body -> what the one line says, for train, compare and promote
    "a web page": (200, b"<html><body>Welcome to nginx</body></html>", "is not an MLflow tracking server (it answers a page that is not MLflow's JSON)"),
    "not found": (404, b"<html>Not Found</html>", "is not an MLflow tracking server (it answers HTTP 404 on MLflow's API)"),
    "a login": (401, b"Unauthorized", "refused the credentials (HTTP 401): set MLFLOW_TRACKING_USERNAME"),
    "failing": (500, b"oops", "answers HTTP 500: the server is up but failing (see its log)"),
}  # fmt: skip


@pytest.mark.parametrize("answer", WRONG_ANSWERS)
def test_a_tracking_uri_that_answers_as_no_working_mlflow_server_is_one_line_saying_which(
    answer, wrong_server, monkeypatch, tmp_path, trained
):
    """`compare` and `promote` printed MLflow's traceback (exit 1) for an address that answers as no
    MLflow server does (a web page, a 404), and a server answering HTTP 500 was "not reachable"."""
    port, served = wrong_server
    served["status"], served["body"], says = WRONG_ANSWERS[answer]
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://me:secret@127.0.0.1:{port}")
    for argv in (
        ["train", "configs/test-baseline.yaml"],
        ["compare", "stance", "--out", str(tmp_path / "o")],
        ["promote", "stance"],
    ):
        out = run_cli(*argv)
        assert out.returncode == 2, out.stderr.decode()
        (line,) = out.stderr.decode().strip().splitlines()
        assert line.startswith(f"error: MLflow tracking store http://me:***@127.0.0.1:{port} {says}"), argv
        assert b"secret" not in out.stdout + out.stderr
    if answer == "a web page":  # predict reads the champion's alias over MLflow's REST API itself
        out = run_cli("predict", ARTICLE, "-o", str(tmp_path / "p"))
        assert (
            out.stderr.decode().strip()
            == f"error: MLflow tracking store http://me:***@127.0.0.1:{port} {says}: set MLFLOW_TRACKING_URI to the server's address"
        )


def test_a_password_in_the_tracking_uri_is_never_printed(monkeypatch, trained, tmp_path):
    """`stance train` (as `experiment run` and `promote`) ends by naming the store it used: a password
    in MLFLOW_TRACKING_URI was printed as it stands, into whatever log keeps the output. So did
    MLflow itself on every run a command ended on the server (`compare`'s report run, a trained
    run): "View run compare report at: http://me:secret@127.0.0.1:.../#/experiments/..."."""
    from tests.mlflow_ui import mlflow_ui

    with mlflow_ui() as url:  # a real MLflow server on the scratch store; it ignores the credentials
        monkeypatch.setenv("MLFLOW_TRACKING_URI", url.replace("http://", "http://me:secret@"))
        out = run_cli("train", "configs/test-baseline.yaml")
        compared = run_cli("compare", "stance", "--out", str(tmp_path / "report"))
    assert out.returncode == 0, out.stderr.decode()
    lines = out.stdout.decode().splitlines()
    assert lines[0].startswith(f"an identical run exists ({trained['run_id']})")
    assert lines[-1] == f"tracking: {url.replace('http://', 'http://me:***@')}"
    assert b"secret" not in out.stdout + out.stderr
    assert compared.returncode == 0, compared.stderr.decode()
    assert "logged to MLflow" in compared.stdout.decode()
    assert b"secret" not in compared.stdout + compared.stderr


def test_retraining_the_same_recipe_on_the_same_data_and_code_is_skipped(trained, scratch_root, built):
    again = train(scratch_root / "configs" / "test-baseline.yaml", quiet=True)
    assert again["skipped"] and again["run_id"] == trained["run_id"]
    tags = MlflowClient().get_run(trained["run_id"]).data.tags
    assert again["same"] == (  # what `stance train` says is the same
        f"recipe test-baseline ({tags['recipe_hash']}), data {built[1]['data_version']}, time split "
        f"(44 newest articles, test share 0.2) and code {tags['code_version']}"
    )


def test_another_time_split_of_the_same_data_is_trained_not_skipped(trained, scratch_root, scheme):
    """`stance build-dataset --test-share 0.3` rebuilds the same data version with 71 test articles:
    the figures of a run on the 44 do not stand for it, so train trains (the split is in the identity)."""
    from labeling.snapshot import latest_snapshot
    from training import dataset

    client = MlflowClient()
    try:
        dataset.save(latest_snapshot(), scheme, share=0.3)
        out = train(
            scratch_root / "configs" / "test-baseline.yaml", quiet=True, registered_model="split-check"
        )
        assert not out["skipped"] and out["run_id"] != trained["run_id"]
        assert out["metrics"]["time_articles"] == 71
        ours, theirs = (client.get_run(r).data.tags["split_hash"] for r in (out["run_id"], trained["run_id"]))
        assert ours != theirs
        # on this split, it is the identical run
        assert train(scratch_root / "configs" / "test-baseline.yaml", quiet=True)["run_id"] == out["run_id"]
    finally:
        dataset.save(latest_snapshot(), scheme)  # the suite's dataset back: 44 test articles
    assert train(scratch_root / "configs" / "test-baseline.yaml", quiet=True)["run_id"] == trained["run_id"]


def test_a_run_logged_without_a_split_hash_is_not_identical_and_crashes_nothing(trained):
    client = MlflowClient()
    tags = client.get_run(trained["run_id"]).data.tags
    assert tracking.find_identical_run(trained_experiment_id(trained), tags).info.run_id == trained["run_id"]
    old = {k: v for k, v in tags.items() if k != "split_hash" and not k.startswith("mlflow.")}
    old["recipe_hash"] = "before-split"  # a run logged before the split_hash tag, else the same
    run = client.create_run(trained_experiment_id(trained), tags=old)
    client.set_terminated(run.info.run_id, "FINISHED")
    assert (
        tracking.find_identical_run(trained_experiment_id(trained), tags | {"recipe_hash": "before-split"})
        is None
    )


def trained_experiment_id(trained) -> str:
    return MlflowClient().get_run(trained["run_id"]).info.experiment_id


def test_a_version_left_unjudged_by_an_interruption_is_judged_by_the_next_train(trained, scratch_root):
    """Ctrl-C between registering and crowning leaves the run FINISHED and its version READY with
    no alias and no `registry_decision`: the next identical train judges it, without retraining."""
    recipe = scratch_root / "configs" / "interrupted.yaml"
    recipe.write_text("kind: baseline\ncv_folds: 3\nC: 2.0\n")
    client, name = MlflowClient(), "interrupted-check"
    first = train(recipe, quiet=True, registered_model=name, crown=False)
    client.delete_tag(first["run_id"], "registry_decision")  # as the interruption leaves it
    (version,) = client.search_model_versions(f"name = '{name}'")
    assert version.status == "READY" and not client.get_model_version(name, version.version).aliases

    again = train(recipe, quiet=True, registered_model=name)
    assert again["skipped"] and again["run_id"] == first["run_id"]
    assert (
        again["decision"].startswith(f"version {version.version} (data ")
        and " is champion: " in again["decision"]
    )
    assert client.get_model_version(name, version.version).aliases == ["champion"]
    assert client.get_run(first["run_id"]).data.tags["registry_decision"] == again["decision"]
    assert len(client.search_model_versions(f"name = '{name}'")) == 1  # nothing new registered
    runs = client.search_runs([trained_experiment_id(trained)], "tags.recipe = 'interrupted'")
    assert [r.info.run_id for r in runs] == [first["run_id"]]  # nothing retrained
    # judged now: a third train leaves it as it is
    assert "decision" not in train(recipe, quiet=True, registered_model=name)


def test_a_worse_model_does_not_take_champion(trained, scratch_root):
    worse = scratch_root / "configs" / "worse.yaml"
    worse.write_text("kind: baseline\ncv_folds: 3\nC: 0.001  # heavy regularisation: a weaker model\n")
    out = train(worse, quiet=True)
    client = MlflowClient()
    assert (
        client.get_model_version_by_alias(tracking.REGISTERED_MODEL, "champion").run_id == trained["run_id"]
    )
    assert client.get_model_version_by_alias(tracking.REGISTERED_MODEL, "challenger").run_id == out["run_id"]
    decision = client.get_run(out["run_id"]).data.tags["registry_decision"]
    assert (
        decision.startswith(f"version {out['model_uri'].rsplit('/', 1)[1]} (data ")
        and " is challenger: " in decision
    )
    # over the pooled blocks the weak model's holders gain where it calls fewer sentences none, and
    # its stances lose clearly: either way it is refused
    assert decision.endswith(
        ("neither above zero, no clear gain", "a gain on one figure, but clearly worse on the other")
    )


def test_an_interrupted_write_does_not_lock_the_killed_mark_out(tmp_path):
    """A signal that cuts a store write short leaves its connection in a write transaction, held by
    the traceback's frames; the run must still end KILLED at once (not "database is locked")."""
    import signal
    import time

    import mlflow

    from stance.errors import Interrupted
    from training.registry import killed_if_interrupted

    before = mlflow.get_tracking_uri()  # the suite's scratch store: given back at the end
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    try:
        # an experiment id, not set_experiment: the suite's later tests keep their own active experiment
        run = mlflow.start_run(experiment_id=MlflowClient().create_experiment("interrupted"))

        def write_cut_short():
            from mlflow.tracking._tracking_service.utils import _get_store

            held = _get_store().engine.connect()  # the interrupted write's connection, left open
            held.exec_driver_sql("BEGIN IMMEDIATE")  # holds SQLite's write lock
            held.exec_driver_sql("UPDATE runs SET name = name")
            raise Interrupted(signal.SIGTERM)

        t0 = time.monotonic()
        with pytest.raises(Interrupted), killed_if_interrupted(run):
            write_cut_short()
        assert MlflowClient().get_run(run.info.run_id).info.status == "KILLED"
        assert time.monotonic() - t0 < 10  # not after the store's 20 s busy timeout
    finally:
        mlflow.set_tracking_uri(before)


def test_a_study_run_is_updated_only_for_the_same_params_and_names_the_code_of_its_figures():
    """A study re-run updates its run (experiments/rolling_origin.py: one run per recipe file); the
    run's params are the recipe it was made with, so a recipe whose content changed gets a new run,
    and each write records the code that made the figures now on the run."""
    import mlflow

    experiment_id = tracking.setup("study-run-test")
    match = {"tags.recipe": "configs/x.yaml", "tags.data_version": "v1"}
    tags = {"recipe": "configs/x.yaml", "data_version": "v1"}
    with tracking.study_run(experiment_id, "x", match, tags, {"C": 4.0, "ngrams": (1, 2)}) as run:
        mlflow.log_metric("rolling_stance_macro_f1", 0.70)
    with tracking.study_run(experiment_id, "x", match, tags, {"C": 4.0, "ngrams": (1, 2)}) as again:
        mlflow.log_metric("rolling_stance_macro_f1", 0.71)
    with tracking.study_run(experiment_id, "x", match, tags, {"C": 8.0, "ngrams": (1, 2)}) as edited:
        mlflow.log_metric("rolling_stance_macro_f1", 0.60)
    assert again.info.run_id == run.info.run_id != edited.info.run_id
    first, second = mlflow.get_run(run.info.run_id), mlflow.get_run(edited.info.run_id)
    assert (first.data.params["C"], first.data.metrics["rolling_stance_macro_f1"]) == ("4.0", 0.71)
    assert (second.data.params["C"], second.data.metrics["rolling_stance_macro_f1"]) == ("8.0", 0.60)
    assert first.data.tags["code_version"] == tracking.code_version()
    assert first.data.tags["git_commit"] == tracking.git_commit()


def test_a_challengers_decision_names_the_champion_it_lost_to(scratch_root):
    """A run's ``registry_decision`` (and its description) is read alone, on its MLflow page: it
    names the champion version and run it was judged against, not only "the champion's" figure."""
    client = MlflowClient()
    experiment_id = tracking.setup("named-champion")
    client.create_registered_model("named-champion-classifier")
    runs = []
    for recipe in ("hybrid-old", "baseline-new"):
        with mlflow.start_run(experiment_id=experiment_id, run_name=f"{recipe}@0123abcd") as run:
            mlflow.set_tags({"recipe": recipe, "data_version": "0123abcd"})
        client.create_model_version(
            "named-champion-classifier", f"{run.info.artifact_uri}/model", run.info.run_id
        )
        runs.append(run.info.run_id)
    client.set_registered_model_alias("named-champion-classifier", "champion", "1")
    decision = tracking.crown("named-champion-classifier", "2", runs[1], "0123abcd")
    assert decision.startswith(
        f"version 2 (data 0123abcd) is challenger: champion v1 (hybrid-old, run {runs[0][:8]}) keeps its place: "
    )
    challenger = client.get_model_version_by_alias("named-champion-classifier", "challenger")
    assert str(challenger.version) == "2"
    assert challenger.tags["registry_decision"] == decision  # the registry page says why, too
