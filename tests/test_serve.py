"""The registered champion served over HTTP by ``mlflow models serve`` answers as predict does."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from labeling.segment import Sentence
from training.predict import DEFAULT_MODEL, Predictor

SENTENCES = [
    "Pakistan urged the Afghan Taliban to act against the TTP.",
    "The Taliban denied sheltering militants on Afghan soil.",
    "Qatar and Turkey mediated the talks in Istanbul.",
    "Cross-border skirmishes killed soldiers on both sides.",
    "پاکستان نے مذاکرات کا مطالبہ کیا۔",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _post(url: str, body: dict) -> dict:
    req = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.loads(resp.read())


@pytest.fixture(scope="module")
def served(trained, tmp_path_factory):
    """``mlflow models serve`` of the champion, local environment, on a free loopback port."""
    port = _free_port()
    log = tmp_path_factory.mktemp("serve") / "server.log"
    mlflow_bin = str(Path(sys.executable).with_name("mlflow"))
    cmd = [mlflow_bin, "models", "serve", "-m", DEFAULT_MODEL, "--env-manager", "local"]
    cmd += ["-h", "127.0.0.1", "-p", str(port), "-w", "1"]
    # mlflow starts uvicorn by name: the environment's scripts must be on PATH, as in an activated venv
    env = os.environ | {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                with urllib.request.urlopen(f"{url}/ping", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"mlflow models serve did not come up:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # the server and the uvicorn worker it started
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.mark.slow
def test_served_champion_answers_as_predict_does(served, scheme):
    answer = _post(
        f"{served}/invocations",
        {"dataframe_split": {"columns": ["text"], "data": [[t] for t in SENTENCES]}},
    )["predictions"]
    local = Predictor().predict_sentences(
        [Sentence("s", f"s:{i}", None, None, t) for i, t in enumerate(SENTENCES)]
    )
    assert len(answer) == len(local) == len(SENTENCES)
    assert {p.pair_right is None for p in local} == {True, False}  # measured pairs and no stance both
    for row, p in zip(answer, local, strict=True):
        assert (row["actor"], row["stance"]) == (p.actor, p.stance)
        assert row["p"] == pytest.approx(p.confidence, abs=1e-4)  # the served p is predict's
        # how far to trust the row's pair, as predict says it (null, not NaN, where not measured)
        assert row["pair_right"] == p.pair_right
        for label in scheme.actor_labels:
            assert row[f"actor:{label}"] == pytest.approx(p.actor_scores[label], abs=1e-4)
        for label in scheme.stance_labels:
            assert row[f"stance:{label}"] == pytest.approx(p.stance_scores[label], abs=1e-4)


@pytest.mark.slow
def test_served_model_takes_records_too_and_refuses_a_body_without_text(served):
    records = _post(f"{served}/invocations", {"dataframe_records": [{"text": SENTENCES[0]}]})
    split = _post(
        f"{served}/invocations", {"dataframe_split": {"columns": ["text"], "data": [[SENTENCES[0]]]}}
    )
    assert records == split
    with pytest.raises(urllib.error.HTTPError) as err:
        _post(f"{served}/invocations", {"dataframe_records": [{"sentence": SENTENCES[0]}]})
    assert err.value.code == 400
    assert "text" in err.value.read().decode()
    # a null or blank text is refused, as predict refuses a blank input; it scored as a sure "none"
    body = {"dataframe_records": [{"text": SENTENCES[0]}, {"text": None}, {"text": "  "}]}
    with pytest.raises(urllib.error.HTTPError) as err:
        _post(f"{served}/invocations", body)
    assert err.value.code == 400
    message = json.loads(err.value.read().decode())["message"]
    assert "2 of 3 rows have no text (null or blank; rows 1, 2, counted from 0)" in message
    # and so is a text that is not a string: it scored as the word "42", a sure "none" too
    with pytest.raises(urllib.error.HTTPError) as err:
        _post(f"{served}/invocations", {"dataframe_split": {"columns": ["text"], "data": [[42]]}})
    assert err.value.code == 400
    message = json.loads(err.value.read().decode())["message"]
    assert (
        "1 of 1 rows have a text that is not a string (rows 0, counted from 0; row 0 holds 42 (int))"
        in message
    )
