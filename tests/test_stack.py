"""The team stack for real: PostgreSQL, an MLflow server on it, Label Studio on it (slow, ~5 minutes).

One stack per module, started as a user starts it (``python -m stance.stack up``) on free
loopback ports; the project's commands then run against it by environment variables alone.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from labeling.snapshot import latest_snapshot
from labeling.studio import Studio, pairs_to_result
from labeling.sync import ensure_annotators
from stance.scheme import Pair
from stance.server import ls_venv
from tests.conftest import REPO, run_cli

pytestmark = pytest.mark.slow
ARTICLE = REPO / "seeds" / "000_acbd9a63285937e5.txt"
PK_DEMAND = Pair("pakistan", "demand")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stack_cli(*args: str, env: dict | None = None) -> tuple[int, str]:
    out = subprocess.run(
        [sys.executable, "-m", "stance.stack", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=600,
    )
    return out.returncode, out.stdout + out.stderr


def cli(*args: str) -> tuple[int, str]:
    out = run_cli(*args)
    return out.returncode, out.stdout.decode() + out.stderr.decode()


def port_taken(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def group_environs(pgid: int):
    """The environment of each process in group ``pgid`` (a server started in its own session)."""
    for proc in Path("/proc").glob("[0-9]*"):
        try:  # /proc/PID/stat: "PID (name) state ppid pgrp ..."
            if int((proc / "stat").read_text().rsplit(")", 1)[1].split()[2]) != pgid:
                continue
            environ = (proc / "environ").read_bytes().decode(errors="replace")
        except (OSError, IndexError):  # ended meanwhile
            continue
        yield dict(item.split("=", 1) for item in environ.split("\0") if "=" in item)


def test_the_mlflow_server_gets_the_database_password_and_no_other_secret(monkeypatch):
    """It talks to PostgreSQL and an object store only: Label Studio's admin password and token,
    an annotator's password or a client's credentials were in its environment all the same."""
    from stance.stack import mlflow_server_env

    withheld = {
        "LABEL_STUDIO_PASSWORD": "ls-admin-password",
        "LABEL_STUDIO_API_KEY": "ls-token-123456",
        "LABEL_STUDIO_USER_TOKEN": "ls-token-123456",
        "POSTGRE_PASSWORD": "db-password",
        "STANCE_STACK_DB_PASSWORD": "db-password",
        "STANCE_ANNOTATOR_PASSWORD": "annotator-password",
        "MLFLOW_TRACKING_URI": "http://me:secret@127.0.0.1:5055",
        "MLFLOW_TRACKING_PASSWORD": "secret",
        "HF_TOKEN": "hf_hub_token",
        "OPENAI_API_KEY": "sk-key",
    }
    kept = {  # the artifact store's credentials (STANCE_STACK_ARTIFACTS=s3://...), settings
        "AWS_ACCESS_KEY_ID": "AKIA",
        "AWS_SECRET_ACCESS_KEY": "aws-secret",
        "AWS_SESSION_TOKEN": "aws-session",
        "GOOGLE_APPLICATION_CREDENTIALS": "/keys/gcs.json",
        "MLFLOW_S3_ENDPOINT_URL": "http://minio:9000",
        "TOKENIZERS_PARALLELISM": "false",
    }
    for key, value in {**withheld, **kept}.items():
        monkeypatch.setenv(key, value)
    env = mlflow_server_env("db-password")
    assert env["PGPASSWORD"] == "db-password" and env["PATH"] == os.environ["PATH"]
    assert not set(withheld) & set(env)
    assert {k: env.get(k) for k in kept} == kept


@pytest.fixture(scope="module")
def stack(scratch_root):
    if not (ls_venv() / "bin" / "label-studio").is_file():
        pytest.fail("Label Studio is not installed: run `make ls-env`")
    if os.geteuid() == 0:  # PostgreSQL runs as the postgres user: it must reach the scratch root
        for folder in [scratch_root, *scratch_root.parents]:
            folder.chmod(folder.stat().st_mode | stat.S_IXOTH)
    ports = {
        "STANCE_STACK_PG_PORT": str(free_port()),
        "STANCE_STACK_MLFLOW_PORT": str(free_port()),
        "STANCE_STACK_LS_PORT": str(free_port()),
    }
    with pytest.MonkeyPatch.context() as mp:
        for k, v in ports.items():
            mp.setenv(k, v)
        for k in ("LABEL_STUDIO_PASSWORD", "LABEL_STUDIO_API_KEY", "STANCE_STACK_DB_PASSWORD"):
            mp.delenv(k, raising=False)
        code, out = stack_cli("up")
        try:
            assert code == 0, out
            mp.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{ports['STANCE_STACK_MLFLOW_PORT']}")
            mp.setenv("LABEL_STUDIO_URL", f"http://127.0.0.1:{ports['STANCE_STACK_LS_PORT']}")
            mp.delenv("LABEL_STUDIO_PROJECT", raising=False)
            yield {**ports, "out": out}
        finally:
            stack_cli("down")


def test_up_prints_the_urls_and_variables_never_a_secret(stack, scratch_root):
    out = stack["out"]
    mlflow_url = os.environ["MLFLOW_TRACKING_URI"]
    assert f"  export MLFLOW_TRACKING_URI={mlflow_url}" in out
    assert f"  export LABEL_STUDIO_URL={os.environ['LABEL_STUDIO_URL']}" in out
    assert "LABEL_STUDIO_API_KEY" in out
    env_file = scratch_root / ".env"
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    secret_keys = ("LABEL_STUDIO_PASSWORD", "LABEL_STUDIO_API_KEY", "STANCE_STACK_DB_PASSWORD")
    values = [
        line.split("=", 1)[1] for line in env_file.read_text().splitlines() if line.startswith(secret_keys)
    ]
    assert len(values) == 3
    logs = [
        out,
        *(p.read_text(errors="replace") for p in (scratch_root / ".stance" / "stack").rglob("*.log")),
    ]
    for secret in values:
        assert not any(secret in text for text in logs)
    # the MLflow server (each process of it) holds the database password as PGPASSWORD, no other secret
    mlflow_pid = int((scratch_root / ".stance" / "stack" / "mlflow.pid").read_text())
    holding = [sorted(k for k, v in env.items() if v in values) for env in group_environs(mlflow_pid)]
    assert holding and holding == [["PGPASSWORD"]] * len(holding)  # names only: a failure shows no value
    assert httpx.get(f"{mlflow_url}/health").text.strip() == "OK"
    assert "the stack is up (started PostgreSQL, the MLflow server, Label Studio; data under " in out
    code, again = stack_cli("up")  # a second up finds it running, changes nothing and says so
    assert code == 0 and "starting" not in again, again
    assert "the stack is up (it was running already; nothing started; data under " in again


def test_train_logs_run_metrics_artifacts_and_champion_through_the_server(stack, built, scratch_root):
    from mlflow import MlflowClient

    recipe = scratch_root / "configs" / "stack-baseline.yaml"
    recipe.write_text("kind: baseline\ncv_folds: 2  # fewer folds: faster tests\n")
    code, out = cli("train", str(recipe))
    assert code == 0, out
    client = MlflowClient(os.environ["MLFLOW_TRACKING_URI"])
    champion = client.get_model_version_by_alias("stance-classifier", "champion")
    run = client.get_run(champion.run_id)
    assert f"run {run.info.run_id} -> models:/stance-classifier/{champion.version}" in out
    assert run.info.status == "FINISHED"
    assert 0.3 < run.data.metrics["stance_macro_f1"] <= 1  # read back from PostgreSQL through the server
    assert run.info.artifact_uri.startswith("mlflow-artifacts:")  # the server serves the artifacts
    assert client.list_artifacts(run.info.run_id)
    stored = scratch_root / ".stance" / "stack" / "artifacts"
    assert any(p.name == "MLmodel" for p in stored.rglob("MLmodel"))
    code, out = cli("predict", str(ARTICLE), "--format", "csv")  # the champion, loaded through the server
    assert code == 0, out
    assert out.splitlines()[0].startswith("article,sentence_id,")


def test_the_labeling_loop_runs_on_label_studio_on_postgresql(stack, scheme, tmp_path):
    assert cli("labeling", "init", "-p", "stack")[0] == 0
    code, out = cli("labeling", "push", "-p", "stack", "--no-predictions", str(ARTICLE))
    assert code == 0, out
    lines = (Path(os.environ["STANCE_ROOT"]) / ".env").read_text().splitlines()
    token = next(line.split("=", 1)[1] for line in lines if line.startswith("LABEL_STUDIO_API_KEY="))
    studio = Studio.connect(os.environ["LABEL_STUDIO_URL"], token)
    project = studio.project("stack").id
    tasks = sorted(studio.export(project), key=lambda t: t["data"]["start"])[:2]
    users = ensure_annotators(studio, ["ann-x", "ann-y"])
    for task, pairs in zip(tasks, [(PK_DEMAND,), ()], strict=True):  # a pair, and no stance
        for user in users.values():
            with studio.calls("annotating"):
                studio.client.annotations.create(
                    task["id"], result=pairs_to_result(pairs, scheme), completed_by=user, ground_truth=False
                )
    code, out = cli("labeling", "pull", "-p", "stack", "--out", str(tmp_path))
    assert code == 0, out
    rows = {r["sentence_id"]: r for r in map(json.loads, latest_snapshot(tmp_path).read_text().splitlines())}
    got = [rows[t["data"]["sentence_id"]] for t in tasks]
    assert [(r["pairs"], r["resolved_by"]) for r in got] == [
        ([PK_DEMAND.to_dict()], "agreement"),
        ([], "agreement"),
    ]
    assert {"ann-x", "ann-y"} <= {a["annotator"] for a in got[0]["annotations"]}  # with the seed's own
    from labeling.annotations import studio_raw_file

    raw = studio_raw_file("stack")
    for path in (raw, raw.with_suffix(".order.jsonl")):  # leave the scratch project's data as committed
        path.unlink(missing_ok=True)


def test_a_wrong_database_password_is_one_line_and_stops_nothing(stack):
    code, out = stack_cli("up", env={"STANCE_STACK_DB_PASSWORD": "not-the-password"})
    port = stack["STANCE_STACK_PG_PORT"]
    assert code == 2
    assert out.strip().splitlines() == [
        f"error: PostgreSQL at 127.0.0.1:{port} refused the password STANCE_STACK_DB_PASSWORD (from "
        f"{os.environ['STANCE_ROOT']}/.env or the environment): the cluster in "
        f"{os.environ['STANCE_ROOT']}/.stance/stack/postgres/data was made with another one; restore it, "
        "or remove that folder to start an empty stack"
    ]
    assert httpx.get(f"{os.environ['MLFLOW_TRACKING_URI']}/health").status_code == 200  # still up


def test_a_token_label_studio_does_not_keep_is_one_line_and_stops_nothing(stack):
    """Label Studio keeps its admin's first token: `up` with another one said 'the stack is up', and
    every labeling command then got HTTP 401."""
    code, out = stack_cli("up", env={"LABEL_STUDIO_API_KEY": "another-token-4711"})
    assert code == 2 and len(out.strip().splitlines()) == 1, out
    assert out.startswith(
        f"error: Label Studio at {os.environ['LABEL_STUDIO_URL']} is running but refuses LABEL_STUDIO_API_KEY "
        "(HTTP 401): its admin keeps the token and password of the first start with its data"
    )
    assert "another-token-4711" not in out
    assert httpx.get(f"{os.environ['LABEL_STUDIO_URL']}/health").status_code == 200  # still up
    assert stack_cli("up")[0] == 0


def test_a_password_label_studio_does_not_keep_is_said_with_the_command_that_sets_it(stack, scratch_root):
    """Label Studio keeps its admin's first password too: `up` with a new one said "log in as ...,
    password LABEL_STUDIO_PASSWORD in .env", and the login page refused it. The command the line
    gives (Label Studio's own, on the stack's PostgreSQL) makes it the admin's."""
    from stance.env import read_env

    new = "another-pass-4711"
    code, out = stack_cli("up", env={"LABEL_STUDIO_PASSWORD": new})
    assert code == 0 and new not in out, out
    (line,) = [x for x in out.splitlines() if x.startswith("  Label Studio  ")]
    assert "the login page refuses LABEL_STUDIO_PASSWORD for admin@stance.local" in line
    assert "log in as" not in line
    shell, command = line.split(" set in the shell: ")
    assert shell.endswith(f"with STANCE_STACK_DB_PASSWORD from {scratch_root / '.env'}")
    env = {**os.environ, **read_env(scratch_root / ".env")}  # what the user's shell would have
    first = env["LABEL_STUDIO_PASSWORD"]
    for password in (new, first):  # the new one made the admin's, then the first put back for the other tests
        done = subprocess.run(
            ["bash", "-c", command], input=password + "\n", env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        code, out = stack_cli("up", env={"LABEL_STUDIO_PASSWORD": password})
        assert code == 0 and "  log in as admin@stance.local, password LABEL_STUDIO_PASSWORD in" in out


def test_up_on_other_ports_stops_the_servers_it_started_before(stack):
    old = {k: stack[k] for k in ("STANCE_STACK_MLFLOW_PORT", "STANCE_STACK_LS_PORT")}
    new = {k: str(free_port()) for k in old}
    code, out = stack_cli("up", env=new)  # the user changed the ports while the stack ran
    assert code == 0, out
    assert "stopping the MLflow server started earlier (pid " in out
    assert f"which does not answer at http://127.0.0.1:{new['STANCE_STACK_MLFLOW_PORT']}" in out
    assert not any(port_taken(int(p)) for p in old.values())  # no server left that `down` forgets
    assert all(port_taken(int(p)) for p in new.values())
    code, out = stack_cli("up", env=old)  # and back: the module's stack on its own ports again
    assert code == 0, out
    assert not any(port_taken(int(p)) for p in new.values())
    assert all(port_taken(int(p)) for p in old.values())


def test_a_changed_database_port_is_said_and_refused_while_the_stack_runs(stack):
    pg, new = stack["STANCE_STACK_PG_PORT"], str(free_port())
    code, out = stack_cli("status", env={"STANCE_STACK_PG_PORT": new})
    assert code == 0 and f"PostgreSQL    127.0.0.1:{pg}  running (not STANCE_STACK_PG_PORT={new})" in out
    code, out = stack_cli("up", env={"STANCE_STACK_PG_PORT": new})  # never moved under MLflow's feet
    assert code == 2 and out.strip().splitlines() == [
        f"error: the stack's PostgreSQL runs on 127.0.0.1:{pg}, not on STANCE_STACK_PG_PORT={new}: "
        "run `stance stack down`, then `stance stack up` to move it"
    ]
    assert port_taken(int(pg)) and not port_taken(int(new))
    assert httpx.get(f"{os.environ['MLFLOW_TRACKING_URI']}/health").status_code == 200  # still up


def test_down_leaves_no_port_and_commands_then_say_the_stack_is_not_started(stack):
    code, out = stack_cli("down")
    assert code == 0 and out.strip() == "stopped Label Studio, the MLflow server, PostgreSQL"
    ports = [
        int(stack[k]) for k in ("STANCE_STACK_PG_PORT", "STANCE_STACK_MLFLOW_PORT", "STANCE_STACK_LS_PORT")
    ]
    assert not any(port_taken(p) for p in ports)
    uri = os.environ["MLFLOW_TRACKING_URI"]
    code, out = cli("predict", str(ARTICLE))  # the champion predicted above: its cached copy answers
    assert code == 0 and f"; the cached copy: tracking store {uri} not reachable" in out
    code, out = cli("predict", str(ARTICLE), "--model", "models:/stance-classifier@never-set")
    assert code == 2
    assert (
        out.strip()
        == f"error: MLflow tracking store {uri} is not reachable (is the tracking server running?)"
    )
    code, out = cli("labeling", "status", "-p", "stack")
    assert code == 2 and out.strip().startswith(
        f"error: cannot reach Label Studio at {os.environ['LABEL_STUDIO_URL']}"
    )
    # a wrong password on a fresh start: PostgreSQL is stopped again, nothing is left running
    code, out = stack_cli("up", env={"STANCE_STACK_DB_PASSWORD": "not-the-password"})
    assert code == 2 and out.strip().splitlines()[-1].startswith("error: PostgreSQL at 127.0.0.1:")
    assert not any(port_taken(p) for p in ports)
    assert stack_cli("down")[1].strip() == "the stack was not running"


def test_a_port_already_taken_is_one_line_and_starts_nothing(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {"STANCE_ROOT": str(tmp_path), "STANCE_STACK_MLFLOW_PORT": str(port)}
        env |= {"STANCE_STACK_PG_PORT": str(free_port()), "STANCE_STACK_LS_PORT": str(free_port())}
        code, out = stack_cli("up", env=env)
    assert code == 2
    assert out.strip() == (
        f"error: port {port} on 127.0.0.1 is already taken by another program (the MLflow server's port): "
        "free it, or set STANCE_STACK_MLFLOW_PORT to a free port"
    )
    assert not (tmp_path / ".stance").exists()


def test_a_stale_pid_file_never_stops_another_program(tmp_path):
    """After a reboot the pid in a server's pid file may be another program's: `stack down` (and
    `make label-studio-stop`) leave it running, and say that the stack was not running."""
    sleeper = subprocess.Popen(["sleep", "120"], start_new_session=True)  # its own group, as our servers
    try:
        folder = tmp_path / ".stance" / "stack"
        (folder / "label-studio").mkdir(parents=True)
        (folder / "mlflow.pid").write_text(f"{sleeper.pid}\n")
        (folder / "label-studio" / "server.pid").write_text(f"{sleeper.pid}\n")
        env = {"STANCE_ROOT": str(tmp_path)} | {
            k: str(free_port())
            for k in ("STANCE_STACK_PG_PORT", "STANCE_STACK_MLFLOW_PORT", "STANCE_STACK_LS_PORT")
        }
        code, out = stack_cli("down", env=env)
        assert code == 0 and out.strip() == "the stack was not running"
        assert sleeper.poll() is None  # still running: signalled by neither pid file
    finally:
        sleeper.kill()
        sleeper.wait()


FAKE_SERVER = """import http.server, sys
class Ok(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers(); self.wfile.write(b"OK")
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[sys.argv.index("--port") + 1])), Ok).serve_forever()
"""


@pytest.fixture
def moved_stack(tmp_path):
    """The stack's MLflow server and Label Studio as `STANCE_STACK_MLFLOW_PORT=N ... stack up` left
    them (stand-ins answering /health, started as `stack up` starts them: `... --port N`), and the
    environment of a new shell whose variables name other ports: (ports, env)."""
    folder, servers = tmp_path / ".stance" / "stack", []
    (folder / "label-studio").mkdir(parents=True)
    ports = {"mlflow": free_port(), "label-studio": free_port()}
    try:
        for name, port in ports.items():
            (tmp_path / name).write_text(FAKE_SERVER)
            cmd = [sys.executable, str(tmp_path / name), "start", "--port", str(port)]
            servers.append(subprocess.Popen(cmd, start_new_session=True))
        (folder / "mlflow.pid").write_text(f"{servers[0].pid}\n")
        (folder / "label-studio" / "server.pid").write_text(f"{servers[1].pid}\n")
        for port in ports.values():
            while not port_taken(port):
                assert all(s.poll() is None for s in servers)
                time.sleep(0.1)
        others = {k: str(free_port()) for k in ("STANCE_STACK_MLFLOW_PORT", "STANCE_STACK_LS_PORT")}
        yield ports, {"STANCE_ROOT": str(tmp_path), "STANCE_STACK_PG_PORT": str(free_port()), **others}
    finally:
        for server in servers:
            server.kill()
            server.wait()


def test_env_and_status_give_the_ports_the_running_servers_listen_on(moved_stack):
    """`STANCE_STACK_MLFLOW_PORT=N make stack-up`, then `eval "$(stance stack env)"` in a shell
    without the variable: it exported the default port, where no server (or another team's)
    answered, and status called the running MLflow server and Label Studio stopped."""
    ports, env = moved_stack
    code, out = stack_cli("env", env=env)
    assert code == 0 and out.splitlines() == [
        f"export MLFLOW_TRACKING_URI=http://127.0.0.1:{ports['mlflow']}",
        f"export LABEL_STUDIO_URL=http://127.0.0.1:{ports['label-studio']}",
    ]
    code, out = stack_cli("status", env=env)
    assert code == 0 and out.splitlines()[1:] == [
        f"MLflow        http://127.0.0.1:{ports['mlflow']}  running "
        f"(not STANCE_STACK_MLFLOW_PORT={env['STANCE_STACK_MLFLOW_PORT']})",
        f"Label Studio  http://127.0.0.1:{ports['label-studio']}  running "
        f"(not STANCE_STACK_LS_PORT={env['STANCE_STACK_LS_PORT']})",
    ]


def test_down_waits_for_the_ports_the_servers_listened_on_not_the_variables(moved_stack):
    """`make stack-down` in that new shell, where another program holds the port the variable
    names (why the user moved the stack): the servers were stopped, then after 30 s it said
    `stopped Label Studio, the MLflow server but ports [N] still answer`, the other program's."""
    ports, env = moved_stack
    with socket.socket() as other:
        other.bind(("127.0.0.1", int(env["STANCE_STACK_MLFLOW_PORT"])))
        other.listen()
        code, out = stack_cli("down", env=env)
    assert code == 0 and out.strip() == "stopped Label Studio, the MLflow server"
    assert not any(port_taken(port) for port in ports.values())
