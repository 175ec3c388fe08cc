"""The team stack's PostgreSQL (:mod:`stance.stack`): a cluster of the project's own, its databases.

Debian's binaries, data under the git-ignored ``.stance/stack/postgres``, its own port, listening
on 127.0.0.1 only. The password of its one user comes from ``.env`` (written on first use, mode
600) or the environment, and is never printed.
"""

from __future__ import annotations

import os
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

from stance.env import env_file
from stance.errors import StanceError
from stance.io import write_atomic
from stance.stack_proc import _give_to_postgres, _pg

DB_USER = "stance"
DATABASES = ("mlflow", "labelstudio")
PASSWORD_VAR = "STANCE_STACK_DB_PASSWORD"


@dataclass(frozen=True)
class Cluster:
    """The cluster in ``folder`` (its data in ``folder/data``), served on 127.0.0.1:``port``."""

    folder: Path
    port: int

    @property
    def data(self) -> Path:
        return self.folder / "data"

    def running(self) -> bool:
        return _pg(["pg_ctl", "-D", str(self.data), "status"], check=False).returncode == 0

    def running_port(self) -> int | None:
        """The port the running cluster listens on (its ``postmaster.pid``'s fourth line), or None."""
        try:
            lines = (self.data / "postmaster.pid").read_text().splitlines()
            return int(lines[3]) if self.running() else None
        except (OSError, IndexError, ValueError):
            return None

    def start(self, password: str) -> None:
        if not (self.data / "PG_VERSION").is_file():
            self._initdb(password)
        opts = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.folder}"
        log = self.folder / "postgres.log"
        out = _pg(["pg_ctl", "-D", str(self.data), "-l", str(log), "-o", opts, "-w", "-t", "60", "start"])
        if out.returncode != 0:
            why = (out.stderr.strip() or out.stdout.strip()).splitlines()[-1:] or ["no output"]
            raise StanceError(f"PostgreSQL did not start on 127.0.0.1:{self.port} ({why[0]}); see {log}")
        self.create_databases(password)

    def _initdb(self, password: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        pwfile = self.folder / "pwfile"
        write_atomic(pwfile, password + "\n", mode=0o600)
        _give_to_postgres(self.folder, pwfile)
        try:
            out = _pg(
                ["initdb", "-D", str(self.data), "-U", DB_USER, "--pwfile", str(pwfile)]
                + ["--auth=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8"]
            )
        finally:
            pwfile.unlink(missing_ok=True)
        if out.returncode != 0:
            shutil.rmtree(self.data, ignore_errors=True)
            why = [line for line in out.stderr.splitlines() if "error" in line.lower()] or ["no output"]
            raise StanceError(f"initdb failed in {self.data}: {why[0]}")

    def connect(self, password: str, dbname: str = "postgres"):
        import psycopg

        try:
            return psycopg.connect(
                host="127.0.0.1",
                port=self.port,
                user=DB_USER,
                password=password,
                dbname=dbname,
                autocommit=True,
                connect_timeout=5,
            )
        except psycopg.OperationalError as exc:
            if "password authentication failed" in str(exc):
                raise StanceError(
                    f"PostgreSQL at 127.0.0.1:{self.port} refused the password {PASSWORD_VAR} "
                    f"(from {env_file()} or the environment): the cluster in {self.data} was made with "
                    "another one; restore it, or remove that folder to start an empty stack"
                ) from None
            raise StanceError(f"cannot reach PostgreSQL at 127.0.0.1:{self.port}: {exc}") from None

    def create_databases(self, password: str) -> None:
        with self.connect(password) as conn:
            have = {row[0] for row in conn.execute("SELECT datname FROM pg_database")}
            for name in DATABASES:
                if name not in have:
                    conn.execute(f'CREATE DATABASE "{name}" OWNER "{DB_USER}"')

    def stop(self) -> bool:
        if not self.running():
            return False
        _pg(["pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop"])
        return True


def db_password() -> str:
    """The cluster's password: from the environment, or made once and kept in ``.env``."""
    if not os.environ.get(PASSWORD_VAR):
        path = env_file()
        old = path.read_text(encoding="utf-8") if path.is_file() else ""
        value = secrets.token_urlsafe(18)
        write_atomic(
            path,
            old + ("" if not old or old.endswith("\n") else "\n") + f"{PASSWORD_VAR}={value}\n",
            mode=0o600,
        )
        os.environ[PASSWORD_VAR] = value
    return os.environ[PASSWORD_VAR]


def ls_db_env(port: int, password: str) -> dict[str, str]:
    """Label Studio's own PostgreSQL settings (its database on the stack's cluster)."""
    return {
        "DJANGO_DB": "default",
        "POSTGRE_NAME": "labelstudio",
        "POSTGRE_USER": DB_USER,
        "POSTGRE_PASSWORD": password,
        "POSTGRE_HOST": "127.0.0.1",
        "POSTGRE_PORT": str(port),
    }
