"""The champion as a Label Studio ML backend (training/ml_backend.py, training/ml_backend_app.py).

The app runs for real: in process through Starlette's test client for the protocol, and on a
loopback port for a real Label Studio server that asks it for a new task's prediction.
"""

from __future__ import annotations

import re
import socket
import threading
import time
import xml.etree.ElementTree as ET

import pytest

from labeling.loop import DEFAULT_MODEL, init
from labeling.segment import Sentence
from labeling.studio import label_config, result_to_pairs
from stance import paths
from stance.errors import StanceError
from stance.scheme import Scheme
from tests.conftest import free_port, renamed_actor, run_cli
from training.ml_backend import RETRAIN_OFF, Backend, Retrainer
from training.ml_backend_app import create_app
from training.predict import Predictor
from training.prelabel import resolve_model

TASKS = [
    {
        "id": 11,
        "data": {
            "text": "Pakistan urged the Afghan Taliban to act against the TTP.",
            "article": "talks-1",
            "sentence_id": "talks-1:0",
            "start": 0,
            "end": 57,
        },
    },
    {"id": 12, "data": {"text": "The Taliban denied sheltering militants on Afghan soil."}},
]


@pytest.fixture(scope="module")
def backend(trained) -> Backend:
    return Backend()


@pytest.fixture(scope="module")
def client(backend):
    from starlette.testclient import TestClient

    return TestClient(create_app(backend, Retrainer(None)))


def mlflow_runs() -> set[str]:
    import mlflow

    return {r.info.run_id for r in mlflow.search_runs(search_all_experiments=True, output_format="list")}


def expected_predictions(tasks: list[dict]) -> list:
    """What predict's Predictor says of the same sentences: the figures push sends."""
    sentences = [
        Sentence(
            t["data"].get("article", f"task-{t['id']}"),
            t["data"].get("sentence_id", f"task-{t['id']}"),
            t["data"].get("start"),
            t["data"].get("end"),
            t["data"]["text"],
        )
        for t in tasks
    ]
    return Predictor().predict_sentences(sentences)


def choices_in(config: str) -> dict[str, tuple[str, set[str]]]:
    """from_name -> (to_name, labels) of the labeling interface's Choices."""
    root = ET.fromstring(config)
    return {
        c.get("name"): (c.get("toName"), {x.get("value") for x in c.iter("Choice")})
        for c in root.iter("Choices")
    }


# -- the protocol, in process ------------------------------------------------------------------
def test_health_and_setup_name_the_registered_version(client, scheme):
    version = resolve_model(DEFAULT_MODEL)
    assert re.fullmatch(r"stance-classifier/\d+", version)
    health = client.get("/health").json()
    assert health["status"] == "UP" and health["model_version"] == version
    assert health["retrain"]["recipe"] is None
    setup = client.post("/setup", json={"project": "1.1700000000", "schema": label_config(scheme)})
    assert setup.status_code == 200 and setup.json() == {"model_version": version}


def test_predict_answers_in_label_studios_format_with_the_pair_confidence(client, scheme):
    r = client.post("/predict", json={"tasks": TASKS, "project": "1.1", "label_config": label_config(scheme)})
    assert r.status_code == 200
    results = r.json()["results"]
    assert len(results) == len(TASKS)
    config = choices_in(label_config(scheme))
    for res, p in zip(results, expected_predictions(TASKS), strict=True):
        assert res["model_version"] == resolve_model(DEFAULT_MODEL)
        assert res["score"] == round(p.confidence, 4) and 0 < res["score"] <= 1
        for item in res["result"]:  # every choice names a control of the project's interface
            to_name, labels = config[item["from_name"]]
            assert item["to_name"] == to_name and item["type"] == "choices"
            assert set(item["value"]["choices"]) <= labels
        assert [i["value"]["choices"][0] for i in res["result"]] == [p.actor, p.stance]
        assert res["result"][0]["score"] == p.actor_scores[p.actor]
        result_to_pairs(res["result"], scheme, "prediction")  # reads back as an annotation would


def test_a_task_without_text_is_a_clear_error(client):
    r = client.post("/predict", json={"tasks": [{"id": 5, "data": {"sentence": "no text field"}}]})
    assert r.status_code == 400
    assert r.json() == {"error": "task 5 has no 'text' to score: the labeling interface reads $text"}


def test_a_task_that_cannot_be_scored_leaves_the_others_their_predictions(client):
    """One bad task among those a "Retrieve predictions" sends was a 400 for all of them (or a 500)."""
    huge = {"id": 7, "data": {"text": "Pakistan urged talks. " * 50_000}}  # 1.1 MB: over predict's limit
    odd = [
        {"id": 5, "data": {"sentence": "no text field"}},
        huge,
        {"id": 8, "data": "not an object"},
        # offsets of another type (a hand-made import): ignored, not a server error
        {"id": 9, "data": {**TASKS[1]["data"], "article": "talks-1", "start": "60", "end": [1]}},
    ]
    r = client.post("/predict", json={"tasks": [TASKS[0], *odd]})
    assert r.status_code == 200
    results = r.json()["results"]
    assert results[1:4] == [[], [], []]  # Label Studio stores no prediction for these
    first, last = expected_predictions([TASKS[0], odd[3]])
    assert results[0]["score"] == round(first.confidence, 4)
    assert results[4]["score"] == round(last.confidence, 4)
    r = client.post("/predict", json={"tasks": [huge]})  # none can be scored: the request is refused
    assert r.status_code == 400
    assert r.json() == {
        "error": "task 7: too long for one sentence (1.1 MB; the limit is 1 MB, as for a whole article)"
    }
    r = client.post("/setup", json={"project": "1.1", "schema": 5})
    assert r.status_code == 400 and r.json()["error"].startswith("Label Studio sent no labeling interface")


def test_setup_serves_the_champion_promote_moved_while_the_backend_ran(client, scheme):
    """The backend served the champion it started with until it was restarted."""
    import mlflow

    registry = mlflow.MlflowClient()
    name, alias = "stance-classifier", "champion"
    before = registry.get_model_version_by_alias(name, alias)
    moved = mlflow.register_model(before.source, name).version  # a new version, as a training run makes
    before = before.version
    registry.set_registered_model_alias(name, alias, moved)
    try:
        setup = client.post("/setup", json={"project": "1.1", "schema": label_config(scheme)})
        assert setup.json() == {"model_version": f"{name}/{moved}"}
        assert client.get("/health").json()["model_version"] == f"{name}/{moved}"
    finally:
        registry.set_registered_model_alias(name, alias, before)
    setup = client.post("/setup", json={"project": "1.1", "schema": label_config(scheme)})
    assert setup.json() == {"model_version": f"{name}/{before}"}
    registry.delete_model_version(name, moved)  # the store as the later tests expect it


def test_setup_refuses_a_project_whose_labels_differ_from_the_scheme(client, scheme):
    other = Scheme(
        {**{k: v for k, v in scheme.actors.items() if k != "mediator"}, "broker": "x"},
        scheme.stances,
        scheme.none,
    )
    r = client.post("/setup", json={"project": "2.1", "schema": label_config(other)})
    assert r.status_code == 400
    assert r.json()["error"] == (
        f"the project's actor choices ({', '.join(other.actor_labels)}) differ from configs/scheme.yaml "
        f"({', '.join(scheme.actor_labels)}; scheme {scheme.hash}) that model {resolve_model(DEFAULT_MODEL)} "
        "was trained with: update the project with `stance labeling init`, or serve a matching model"
    )
    r = client.post(
        "/setup", json={"project": "2.1", "schema": "<View><Text name='text' value='$text'/></View>"}
    )
    assert (
        r.status_code == 400
        and "has no 'actor' choices on 'text': it is not a stance project" in r.json()["error"]
    )


def test_a_model_with_another_label_scheme_is_refused(trained, tmp_path):
    changed = tmp_path / "scheme.yaml"
    changed.write_text(paths.scheme_file().read_text().replace("  mediator: >-", "  broker: >-"))
    with pytest.raises(StanceError, match=re.escape("was trained with a different label scheme")):
        Backend(scheme=Scheme.load(changed))


def test_the_command_refuses_such_a_model_in_one_line_before_listening(trained, scratch_root):
    with renamed_actor(scratch_root):
        out = run_cli("labeling", "backend", "--port", str(free_port()))
    assert out.returncode == 2
    (line,) = out.stderr.decode().strip().splitlines()
    assert line.startswith(
        "error: model 'models:/stance-classifier@champion' was trained with a different label scheme"
    )


def test_a_port_taken_or_an_address_not_here_is_one_line_before_the_model_loads():
    """uvicorn logged the bind error after the model had loaded and "serving ..." was printed, and exited 1."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        out = run_cli("labeling", "backend", "--port", str(port))
    assert out.returncode == 2 and out.stdout == b""
    assert out.stderr.decode().strip() == (
        f"error: port {port} on 127.0.0.1 is already taken by another program: free it, or choose another "
        "with --port"
    )
    port = free_port()
    out = run_cli("labeling", "backend", "--host", "192.0.2.1", "--port", str(port))  # TEST-NET: not here
    assert out.returncode == 2
    assert out.stderr.decode().strip() == (
        f"error: cannot listen on 192.0.2.1:{port} (Cannot assign requested address): check --host"
    )


def test_a_webhook_with_retraining_off_does_nothing_and_says_so(client):
    before = mlflow_runs()
    r = client.post(
        "/webhook", json={"action": "ANNOTATION_CREATED", "project": {"id": 1, "title": "stance"}}
    )
    assert r.status_code == 200
    assert r.json() == {"status": RETRAIN_OFF, "retrain": "off", "action": "ANNOTATION_CREATED"}
    other = client.post("/webhook", json={"action": "TASKS_CREATED", "project": {"id": 1}})
    assert other.json() == {"status": "ignored", "action": "TASKS_CREATED"}
    assert mlflow_runs() == before


def test_retrains_run_one_at_a_time_and_events_meanwhile_coalesce(tmp_path):
    release, calls = threading.Event(), []

    def job(recipe, project):  # stands in for the training job: this test is about the scheduling
        calls.append(project)
        release.wait(10)
        return {"recipe": str(recipe)}

    retrainer = Retrainer(tmp_path / "r.yaml", job)
    assert retrainer.request("a") == "started"
    assert [retrainer.request("b") for _ in range(5)] == ["coalesced"] * 5
    release.set()
    assert retrainer.wait(10)
    assert calls == ["a", "b"] and retrainer.state.started == 2 and retrainer.state.last["ok"]
    assert Retrainer(None).request("a") == "off"


@pytest.mark.slow
def test_a_webhook_with_retraining_on_records_one_run_without_blocking_predict(
    backend, scratch_root, monkeypatch
):
    from starlette.testclient import TestClient

    monkeypatch.delenv("LABEL_STUDIO_API_KEY", raising=False)  # no server to pull from: the latest snapshot
    recipe = scratch_root / "configs" / "retrain-baseline.yaml"
    recipe.write_text(
        "kind: baseline\ncv_folds: 3  # fewer folds: faster tests\nC: 0.5  # not the fixture's recipe: a run of its own\n"
    )
    retrainer = Retrainer(recipe)
    client = TestClient(create_app(backend, retrainer))
    before = mlflow_runs()
    r = client.post("/webhook", json={"action": "ANNOTATION_CREATED"})
    assert r.json()["retrain"] == "started"
    assert client.post("/webhook", json={"action": "ANNOTATION_UPDATED"}).json()["retrain"] == "coalesced"
    t0 = time.monotonic()
    assert len(client.post("/predict", json={"tasks": TASKS}).json()["results"]) == 2
    assert time.monotonic() - t0 < 30 and retrainer.state.running  # answered while the retrain runs
    assert retrainer.wait(900)
    new = mlflow_runs() - before
    assert len(new) == 1, retrainer.state.last  # the coalesced event found the identical run: no second
    assert retrainer.state.last["ok"] and retrainer.state.started == 2


# -- a real Label Studio ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def live_backend(backend):
    """The app on a free loopback port, as `stance labeling backend` serves it."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(backend, Retrainer(None)), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.1)
    assert server.started
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


@pytest.mark.slow
def test_label_studio_gets_the_models_prediction_for_a_newly_imported_task(
    studio, live_backend, backend, scheme
):
    project_id, _ = init(studio, scheme, "ml backend")
    with studio.calls("connecting the ML backend"):
        ml = studio.client.ml.create(project=project_id, url=live_backend, title="stance champion")
    assert ml.state == "CO" and ml.model_version == backend.model_version  # health and setup passed
    with studio.calls("asking for predictions when a task is opened"):
        studio.client.projects.update(project_id, evaluate_predictions_automatically=True)
    # a task imported by the API, not by push (the interface also shows the neighbours)
    task = TASKS[0]["data"] | {"context_before": "", "context_after": ""}
    with studio.calls("importing a task"):
        studio.client.projects.import_tasks(project_id, request=[task])
    # listing the project's tasks, as the Data Manager does, or opening the task asks the backend's /predict
    (task_id,) = [t.id for t in studio.client.tasks.list(project=project_id)]
    with studio.calls("opening the task"):
        studio.client.tasks.get(task_id)
    (pred,) = studio.client.predictions.list(task=task_id)
    (p,) = expected_predictions([{"id": task_id, "data": task}])
    assert pred.model_version == backend.model_version == resolve_model(DEFAULT_MODEL)
    assert pred.score == round(p.confidence, 4)
    assert [r["value"]["choices"][0] for r in pred.result] == [p.actor, p.stance]
