"""The team stack on one machine: PostgreSQL, an MLflow tracking server on it, Label Studio on it.

``make stack-up`` runs ``python -m stance.stack up``: a PostgreSQL cluster of the project's own
(``stance.stack_pg``: Debian's binaries, data under the git-ignored ``.stance/stack/postgres``, its
own port), an MLflow tracking server whose backend store is that cluster and which serves the
artifacts from ``.stance/stack/artifacts``, and Label Studio with its own database on the same
cluster. All listen on 127.0.0.1 only. Ports come from ``STANCE_STACK_PG_PORT``,
``STANCE_STACK_MLFLOW_PORT`` and ``STANCE_STACK_LS_PORT``; the database password and Label
Studio's admin password and token come from ``.env`` (written on first use, mode 600) and are
never printed: the MLflow server gets the database password as ``PGPASSWORD`` in its environment,
not in its command line, and none of the caller's other secrets (:func:`mlflow_server_env`).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import typer

from stance import paths
from stance.env import DEFAULT_USERNAME, ensure_secrets, env_file, load_env, without_secrets
from stance.errors import StanceError
from stance.io import write_atomic
from stance.server import LocalServer, last_log_line, runs_program
from stance.stack_pg import DATABASES, DB_USER, PASSWORD_VAR, Cluster, db_password, ls_db_env
from stance.stack_proc import (
    _alive,
    _answers,
    _listening_port,
    _port_taken,
    _require_postgres,
    _stop_group,
    _wait_free,
)

PORTS = {  # variable, default, what listens there
    "pg": ("STANCE_STACK_PG_PORT", 5433, "PostgreSQL"),
    "mlflow": ("STANCE_STACK_MLFLOW_PORT", 5055, "the MLflow server"),
    "ls": ("STANCE_STACK_LS_PORT", 8085, "Label Studio"),
}
MLFLOW_START_S = 180  # a first start creates MLflow's tables in PostgreSQL
# What the MLflow server is not given of the caller's environment beyond its secrets: Label Studio's
# and its database's settings, a client's MLflow settings. It needs the database password only, as
# PGPASSWORD ...
NOT_FOR_MLFLOW = ("LABEL_STUDIO_", "POSTGRE_", "MLFLOW_TRACKING_")
# ... and an object store's credentials (STANCE_STACK_ARTIFACTS=s3://, gs://)
ARTIFACT_STORE_CREDENTIALS = ("AWS_", "AZURE_", "GOOGLE_")


def mlflow_server_env(password: str) -> dict[str, str]:
    """The MLflow server's environment: the caller's without its secrets, the database password as
    ``PGPASSWORD`` (libpq reads it: the password stays out of the command line). The server ran with
    every secret of the shell that started it, readable in /proc by the server's user."""
    env = {
        k: v
        for k, v in without_secrets(keep=ARTIFACT_STORE_CREDENTIALS).items()
        if not k.startswith(NOT_FOR_MLFLOW)
    }
    return env | {
        "PGPASSWORD": password,
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
        "MLFLOW_DISABLE_TELEMETRY": "true",
    }


@dataclass(frozen=True)
class Stack:
    folder: Path
    pg_port: int
    mlflow_port: int
    ls_port: int

    @classmethod
    def from_env(cls) -> Stack:
        load_env()
        ports = {}
        for key, (var, default, _) in PORTS.items():
            value = os.environ.get(var, str(default))
            if not value.isdigit() or not 0 < int(value) < 65536:
                raise StanceError(f"{var}={value}: a port number (1-65535)")
            ports[key] = int(value)
        return cls(paths.state() / "stack", ports["pg"], ports["mlflow"], ports["ls"])

    # -- where things are -----------------------------------------------------------------
    @property
    def pg(self) -> Cluster:
        return Cluster(self.folder / "postgres", self.pg_port)

    @property
    def artifacts(self) -> Path:
        return self.folder / "artifacts"

    @property
    def artifacts_destination(self) -> str:
        """Where the server keeps artifacts: a folder here, or ``STANCE_STACK_ARTIFACTS`` (s3://, gs://)."""
        return os.environ.get("STANCE_STACK_ARTIFACTS") or str(self.artifacts)

    @property
    def mlflow_pid(self) -> Path:
        return self.folder / "mlflow.pid"

    @property
    def mlflow_url(self) -> str:
        return f"http://127.0.0.1:{self.mlflow_port}"

    @property
    def label_studio(self) -> LocalServer:
        # its database named for the commands a message prints; the password read from the shell
        database = ls_db_env(self.pg_port, f'"${PASSWORD_VAR}"')
        return LocalServer(
            f"http://127.0.0.1:{self.ls_port}",
            self.folder / "label-studio",
            tuple(f"{k}={v}" for k, v in database.items()),
        )

    def as_running(self) -> Stack:
        """This stack on the ports its running servers listen on: the variables may name others (a
        new shell without the ones `stack up` was given)."""
        mlflow, ls = self.mlflow_running_pid(), self.label_studio.running_pid()
        return replace(
            self,
            pg_port=self.pg.running_port() or self.pg_port,
            mlflow_port=(mlflow and _listening_port(mlflow)) or self.mlflow_port,
            ls_port=(ls and _listening_port(ls)) or self.ls_port,
        )

    def env_lines(self) -> list[str]:
        return [
            f"export MLFLOW_TRACKING_URI={self.mlflow_url}",
            f"export LABEL_STUDIO_URL={self.label_studio.url}",
        ]

    # -- the MLflow server ------------------------------------------------------------------
    def mlflow_running_pid(self) -> int | None:
        if not self.mlflow_pid.is_file():
            return None
        pid = int(self.mlflow_pid.read_text().strip() or 0)
        # a stale pid file (after a reboot) may name another program now: never signalled
        return pid if pid > 0 and _alive(pid) and runs_program(pid, "mlflow") else None

    def mlflow_answers(self) -> bool:
        return _answers(f"{self.mlflow_url}/health")

    def mlflow_start(self, password: str) -> None:
        self.artifacts.mkdir(parents=True, exist_ok=True)
        exe = Path(sys.executable).with_name("mlflow")
        cmd = [str(exe), "server", "--host", "127.0.0.1", "--port", str(self.mlflow_port), "--workers", "1"]
        cmd += ["--backend-store-uri", f"postgresql+psycopg://{DB_USER}@127.0.0.1:{self.pg_port}/mlflow"]
        cmd += ["--artifacts-destination", self.artifacts_destination]
        env = mlflow_server_env(password)
        log = self.folder / "mlflow.log"
        with open(log, "ab") as out:
            log_start = out.tell()
            proc = subprocess.Popen(
                cmd, cwd=self.folder, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        write_atomic(self.mlflow_pid, f"{proc.pid}\n")
        deadline = time.monotonic() + MLFLOW_START_S
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                reason = last_log_line(log, log_start, secrets=(password,))
                raise StanceError(f"the MLflow server exited (status {proc.returncode}){reason}; see {log}")
            if self.mlflow_answers():
                return
            time.sleep(1)
        raise StanceError(f"the MLflow server did not answer at {self.mlflow_url}; see {log}")

    def mlflow_stop(self) -> bool:
        pid = self.mlflow_running_pid()
        self.mlflow_pid.unlink(missing_ok=True)
        if pid is None:
            return False
        _stop_group(pid)
        return True

    # -- the whole stack --------------------------------------------------------------------
    def check_ports(self) -> None:
        """Every port this call would bind must be free: checked before anything starts."""
        # ours counts as running only where it answers on this call's port: one started on
        # another port is stopped by `up`, so this port must be free for the new one
        running = {
            "pg": self.pg.running(),
            "mlflow": bool(self.mlflow_running_pid()) and self.mlflow_answers(),
        }
        running["ls"] = bool(self.label_studio.running_pid()) and self.label_studio.answers()
        for key, (var, _, what) in PORTS.items():
            port = getattr(self, f"{key}_port")
            if not running[key] and _port_taken(port):
                raise StanceError(
                    f"port {port} on 127.0.0.1 is already taken by another program ({what}'s port): "
                    f"free it, or set {var} to a free port"
                )

    def up(self) -> list[str]:
        """Start what is not running; the names of what it started (none: it all ran already)."""
        _require_postgres()
        self.check_ports()
        self.folder.mkdir(parents=True, exist_ok=True)
        password = db_password()
        ensure_secrets()
        started: list[str] = []  # on a failure, these are stopped again: nothing half-started
        try:
            if not self.pg.running():
                print(f"starting PostgreSQL on 127.0.0.1:{self.pg_port} ...", flush=True)
                started.append("pg")
                self.pg.start(password)
            else:
                self._check_pg_port()
                self.pg.create_databases(password)
            if not (self.mlflow_running_pid() and self.mlflow_answers()):
                self._stop_stray(
                    "the MLflow server", self.mlflow_running_pid(), self.mlflow_url, self.mlflow_stop
                )
                print(f"starting the MLflow server at {self.mlflow_url} ...", flush=True)
                started.append("mlflow")
                self.mlflow_start(password)
            ls = self.label_studio
            if not (ls.running_pid() and ls.answers()):
                self._stop_stray("Label Studio", ls.running_pid(), ls.url, ls.stop)
                print(
                    f"starting Label Studio at {ls.url} (a first start takes a few minutes) ...", flush=True
                )
                started.append("ls")
                os.environ.update(ls_db_env(self.pg_port, password))
                ls.start(
                    os.environ.get("LABEL_STUDIO_USERNAME", DEFAULT_USERNAME),
                    os.environ["LABEL_STUDIO_PASSWORD"],
                    os.environ["LABEL_STUDIO_API_KEY"],
                )
            # its admin keeps the first start's token: another one is said now, not as every command's 401
            ls.check_admin_token(
                os.environ.get("LABEL_STUDIO_USERNAME", DEFAULT_USERNAME), os.environ["LABEL_STUDIO_API_KEY"]
            )
        except BaseException:
            stops = {"ls": self.label_studio.stop, "mlflow": self.mlflow_stop, "pg": self.pg.stop}
            for key in reversed(started):
                stops[key]()
            raise
        return [PORTS[key][2] for key in started]

    def _check_pg_port(self) -> None:
        """The cluster is not moved under the servers that use it: a changed port is refused."""
        port = self.pg.running_port()
        if port is not None and port != self.pg_port:
            raise StanceError(
                f"the stack's PostgreSQL runs on 127.0.0.1:{port}, not on {PORTS['pg'][0]}="
                f"{self.pg_port}: run `stance stack down`, then `stance stack up` to move it"
            )

    @staticmethod
    def _stop_stray(what: str, pid: int | None, url: str, stop) -> None:
        """Ours (its pid file names it) but silent at ``url``: started on another port, or hung.
        Stopped before the new one starts, so that no server is left running that `down` forgets."""
        if pid is not None:
            print(
                f"stopping {what} started earlier (pid {pid}), which does not answer at {url} ...", flush=True
            )
            stop()

    def down(self, quiet: bool = False) -> list[str]:
        stopped = []
        if self.label_studio.stop():
            stopped.append("Label Studio")
        if self.mlflow_stop():
            stopped.append("the MLflow server")
        if self.pg.stop():
            stopped.append("PostgreSQL")
        busy = [p for p in (self.ls_port, self.mlflow_port, self.pg_port) if _wait_free(p) is False]
        if busy and stopped and not quiet:
            raise StanceError(f"stopped {', '.join(stopped)} but ports {busy} still answer")
        return stopped


# -- commands ------------------------------------------------------------------------
app = typer.Typer(
    add_completion=False,
    pretty_exceptions_enable=False,
    no_args_is_help=True,
    help="The team stack: PostgreSQL, an MLflow server and Label Studio on 127.0.0.1.",
)


@app.command()
def up() -> None:
    """Start PostgreSQL, the MLflow server and Label Studio (waits until each answers)."""
    stack = Stack.from_env()
    started = stack.up()
    what = f"started {', '.join(started)}" if started else "it was running already; nothing started"
    print(f"the stack is up ({what}; data under {stack.folder}):")
    print(f"  PostgreSQL    127.0.0.1:{stack.pg_port}  databases {', '.join(DATABASES)}, user {DB_USER}")
    print(f"  MLflow        {stack.mlflow_url}  artifacts in {stack.artifacts_destination}")
    username = os.environ.get("LABEL_STUDIO_USERNAME", DEFAULT_USERNAME)
    refused = stack.label_studio.password_note(username, os.environ["LABEL_STUDIO_PASSWORD"])
    login = refused or f"log in as {username}, password LABEL_STUDIO_PASSWORD in {env_file()}"
    print(f"  Label Studio  {stack.label_studio.url}  {login}")
    print('point the project at it (or: eval "$(stance stack env)"):')
    for line in stack.env_lines():
        print(f"  {line}")
    print(f"  # and LABEL_STUDIO_API_KEY, the token: read from {env_file()} by `stance labeling ...`")
    print("stop it with: make stack-down")


@app.command()
def down() -> None:
    """Stop Label Studio, the MLflow server and PostgreSQL; no process or port is left behind."""
    stopped = Stack.from_env().as_running().down()  # whose ports it waits for: the ones they listened on
    print(f"stopped {', '.join(stopped)}" if stopped else "the stack was not running")


@app.command()
def env() -> None:
    """The variables that point the project at the stack, as shell exports (no secrets)."""
    for line in Stack.from_env().as_running().env_lines():
        print(line)


@app.command()
def status() -> None:
    """What of the stack runs, and where."""
    stack = Stack.from_env()
    running = stack.as_running()

    def moved(key: str) -> str:
        port = getattr(stack, f"{key}_port")
        return f" (not {PORTS[key][0]}={port})" if getattr(running, f"{key}_port") != port else ""

    state = "running" if stack.pg.running() else "stopped"
    print(f"PostgreSQL    127.0.0.1:{running.pg_port}  {state}{moved('pg')}")
    print(
        f"MLflow        {running.mlflow_url}  {'running' if running.mlflow_answers() else 'stopped'}{moved('mlflow')}"
    )
    ls = running.label_studio
    print(f"Label Studio  {ls.url}  {'running' if ls.answers() else 'stopped'}{moved('ls')}")


if __name__ == "__main__":
    from stance.runner import guard

    guard(app)
