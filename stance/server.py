"""A local Label Studio server: installed in its own venv (.ls-venv), started on loopback, stopped.

``make label-studio`` runs ``python -m stance.server start``: the server's data
lives under the git-ignored ``.stance/label-studio/``; the admin user and its API
token come from the environment or ``.env`` (written with fresh random secrets on
the first start when missing). Pointing the project at another server instead is
two variables: ``LABEL_STUDIO_URL`` and ``LABEL_STUDIO_API_KEY``. Reading ``.env``, making its
secrets and keeping the others from a server's environment is ``stance/env.py``.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import typer

from stance import paths
from stance.env import DEFAULT_USERNAME, ensure_secrets, env_file, load_env, read_env, without_secrets
from stance.errors import StanceError, redact
from stance.io import write_atomic

DEFAULT_URL = "http://127.0.0.1:8080"
START_TIMEOUT_S = 240  # a first start migrates its database: about a minute here, more on a busy machine

# Settings the server always gets: no calls home, no open sign-up, the fixed API token accepted.
SERVER_ENV = {
    "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",  # without it the fixed user token gets HTTP 401
    "LABEL_STUDIO_LATEST_VERSION_CHECK": "false",
    "LABEL_STUDIO_COLLECT_ANALYTICS": "false",
    "LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK": "true",
    # The project's ML backend (`stance labeling backend`) listens on loopback too. Label Studio 1.23
    # refuses a model URL on a local address, and connecting one fails (HTTP 403) while its SSRF
    # guard refuses the model's webhook on loopback. Both guards off, here and in the team stack
    # (stance/stack.py starts its Label Studio through this class): each listens on loopback only,
    # so what a user could make the server fetch there, they reach from that machine themselves. A
    # server others reach (a proxy in front) should keep them on: LABEL_STUDIO_SSRF_PROTECTION_ENABLED
    # and LABEL_STUDIO_ML_BLOCK_LOCAL_IP set to true win over these (Label Studio reads them first).
    "ML_BLOCK_LOCAL_IP": "false",
    "SSRF_PROTECTION_ENABLED": "false",
    # Label Studio sends its server's errors (send_default_pii: users' e-mails, request bodies, so
    # the articles' sentences) and the annotators' browsers' errors to HumanSignal's Sentry by
    # default. Nothing of a project's leaves the machine: both off (LABEL_STUDIO_ comes first).
    "LABEL_STUDIO_SENTRY_DSN": "",
    "LABEL_STUDIO_FRONTEND_SENTRY_DSN": "",
}


# -- the server ------------------------------------------------------------------------
def ls_venv() -> Path:
    return paths.code() / ".ls-venv"


@dataclass(frozen=True)
class LocalServer:
    """Where a local server listens and keeps its data, pid file and log."""

    url: str
    data_dir: Path
    # shell assignments that name a database other than the data folder's SQLite (the stack's
    # PostgreSQL), put before a `label-studio` command it prints; never a secret's value
    database_env: tuple[str, ...] = ()

    @classmethod
    def from_env(cls) -> LocalServer:
        url = os.environ.get("LABEL_STUDIO_URL", DEFAULT_URL).rstrip("/")
        return cls(url, paths.state() / "label-studio")

    @property
    def port(self) -> int:
        parts = urlsplit(self.url)
        if parts.hostname not in ("127.0.0.1", "localhost") or parts.port is None:
            raise StanceError(
                f"LABEL_STUDIO_URL={self.url}: a local server listens on http://127.0.0.1:PORT; "
                "for a server elsewhere, set LABEL_STUDIO_URL and LABEL_STUDIO_API_KEY and skip `make label-studio`"
            )
        return parts.port

    @property
    def pid_file(self) -> Path:
        return self.data_dir / "server.pid"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "server.log"

    def running_pid(self) -> int | None:
        if not self.pid_file.is_file():
            return None
        pid = int(self.pid_file.read_text().strip() or 0)
        if pid <= 0:
            return None
        try:
            os.kill(pid, 0)
        except (ProcessLookupError, PermissionError):
            return None
        # a stale pid file (after a reboot, or a server that died) may name another program now
        return pid if runs_program(pid, "label-studio") else None

    def answers(self) -> bool:
        import httpx

        try:
            return httpx.get(f"{self.url}/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def start(self, username: str, password: str, token: str, timeout: float = START_TIMEOUT_S) -> bool:
        """Start the server in the background and wait until it answers; False if it already ran."""
        if self.running_pid() and self.answers():
            return False
        if self.answers():
            raise StanceError(
                f"something else already answers at {self.url}; choose another LABEL_STUDIO_URL port"
            )
        exe = ls_venv() / "bin" / "label-studio"
        if not exe.is_file():
            raise StanceError(f"Label Studio is not installed in {ls_venv()}: run `make ls-env` first")
        # the owner's only: Label Studio keeps the admin's API token unhashed in its database (any user
        # of the machine who could read it could act as the admin), its log, the exports and uploads
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir.chmod(0o700)
        env = {
            **without_secrets(keep=("LABEL_STUDIO_", "POSTGRE_")),
            **SERVER_ENV,
            "LABEL_STUDIO_BASE_DATA_DIR": str(self.data_dir),
            "LABEL_STUDIO_HOST": self.url,
            "LABEL_STUDIO_USERNAME": username,
            "LABEL_STUDIO_PASSWORD": password,
            "LABEL_STUDIO_USER_TOKEN": token,
        }
        cmd = [str(exe), "start", "--no-browser", "--internal-host", "127.0.0.1", "--port", str(self.port)]
        cmd.append("--enable-legacy-api-token")
        with open(self.log_file, "ab") as log:
            log_start = log.tell()
            proc = subprocess.Popen(
                cmd, cwd=self.data_dir, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        write_atomic(self.pid_file, f"{proc.pid}\n")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                reason = last_log_line(self.log_file, log_start, secrets=(password, token))
                raise StanceError(
                    f"Label Studio exited (status {proc.returncode}) before answering{reason}; see {self.log_file}"
                )
            if self.answers():
                return True
            time.sleep(1)
        self.stop()
        raise StanceError(
            f"Label Studio did not answer at {self.url} within {timeout:.0f} s; see {self.log_file}"
        )

    def check_admin_token(self, username: str, token: str) -> None:
        """The running server accepts ``token``. Label Studio sets its admin's token and password when
        it creates the admin, on the first start with this data folder; a later start with other
        secrets (a new ``.env``, another token exported) is up, and refuses every command."""
        import httpx

        try:
            status = httpx.get(
                f"{self.url}/api/current-user/whoami", headers={"Authorization": f"Token {token}"}, timeout=30
            ).status_code
        except httpx.HTTPError as exc:
            raise StanceError(f"cannot reach Label Studio at {self.url} ({exc.__class__.__name__})") from None
        if status in (401, 403):
            raise StanceError(
                f"Label Studio at {self.url} is running but refuses LABEL_STUDIO_API_KEY (HTTP {status}): its admin "
                f"keeps the token and password of the first start with its data ({self.data_dir}), which a later "
                f"start does not change. Put that token back in LABEL_STUDIO_API_KEY ({env_file()}), or log in to "
                "the UI and copy it from Account & Settings → Access Token (a forgotten password: "
                f"{self.reset_password_command(username)})"
            )

    def password_note(self, username: str, password: str) -> str | None:
        """None when the UI's login form takes ``password``; else the line that says why it does not.

        Like the token, the admin's password is set on the first start with a data folder only: a
        later start with a new ``LABEL_STUDIO_PASSWORD`` was told "log in ... with the password in
        .env", which the login page then refused. The password is never part of the line."""
        import httpx

        try:
            with httpx.Client(base_url=self.url, timeout=30) as client:
                client.get("/user/login/")
                answer = client.post(
                    "/user/login/",
                    data={
                        "email": username,
                        "password": password,
                        "csrfmiddlewaretoken": client.cookies.get("csrftoken", ""),
                    },
                    headers={"Referer": f"{self.url}/user/login/"},
                )
        except httpx.HTTPError as exc:
            return f"the login page at {self.url} did not answer ({exc.__class__.__name__}); the API does"
        if answer.status_code in (301, 302, 303):  # logged in: sent on to the projects
            return None
        return (
            f"the login page refuses LABEL_STUDIO_PASSWORD for {username}: the admin keeps the password of the "
            f"first start with its data ({self.data_dir}). Log in with that one, or make this one the admin's "
            f"(it asks for it): {self.reset_password_command(username)}"
        )

    def reset_password_command(self, username: str) -> str:
        """Label Studio's own command that sets the admin's password (asked for, never on the command line)."""
        needs = sorted(set(re.findall(r"\$(\w+)", " ".join(self.database_env))))
        shell = f"with {', '.join(needs)} from {env_file()} set in the shell: " if needs else ""
        return shell + " ".join(
            [
                *self.database_env,
                f"LABEL_STUDIO_BASE_DATA_DIR={self.data_dir} {ls_venv()}/bin/label-studio reset_password",
                f"--username {username}",
            ]
        )

    def stop(self, timeout: float = 30) -> bool:
        """Stop the server this data dir's pid file names; False if none ran."""
        pid = self.running_pid()
        self.pid_file.unlink(missing_ok=True)
        if pid is None:
            return False
        os.killpg(pid, signal.SIGTERM)  # started in its own session: its group is its pid
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
                if _is_zombie(pid):
                    break
            except ProcessLookupError:
                break
            time.sleep(0.2)
        else:
            os.killpg(pid, signal.SIGKILL)
        return True


EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt)\b(: .*)?$")


def last_log_line(log_file: Path, offset: int, secrets: tuple[str, ...] = ()) -> str:
    """': <why a server stopped>', for its error line: the last exception it wrote to its log since
    offset (a traceback's last line), else its last line; the given secrets masked, '' when it wrote nothing."""
    try:
        with open(log_file, "rb") as f:
            f.seek(max(offset, f.seek(0, os.SEEK_END) - 64_000))  # the end is enough for the last line
            lines = [ln.strip() for ln in f.read().decode("utf-8", "replace").splitlines() if ln.strip()]
    except OSError:
        return ""
    if not lines:
        return ""
    raised = [ln for ln in lines if EXCEPTION_LINE.match(ln)]  # log lines may follow a traceback
    line = (raised or lines)[-1]
    for secret in secrets:
        if secret:
            line = line.replace(secret, "***")
    return f": {line[:300]}{'…' if len(line) > 300 else ''}"


def runs_program(pid: int, program: str) -> bool:
    """Whether process ``pid`` runs ``program`` (an argument of its command line ends with
    ``/program``): a pid file's process is signalled only when it is still the server it named."""
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return any(a.decode(errors="replace").endswith(f"/{program}") for a in args)


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except OSError:
        return False


# -- commands ------------------------------------------------------------------------
app = typer.Typer(add_completion=False, pretty_exceptions_enable=False, no_args_is_help=True)


@app.command()
def start() -> None:
    """Start a local Label Studio on 127.0.0.1 (data under .stance/label-studio) and wait for it."""
    wrote = ensure_secrets()
    server = LocalServer.from_env()
    username = os.environ.get("LABEL_STUDIO_USERNAME", DEFAULT_USERNAME)
    if wrote:
        print(f"wrote a new admin password and API token to {env_file()} (git-ignored; keep it private)")
    if not (server.running_pid() and server.answers()):
        print(
            f"starting Label Studio at {redact(server.url)} (a first start takes a minute or two) ...",
            flush=True,
        )
    started = server.start(username, os.environ["LABEL_STUDIO_PASSWORD"], os.environ["LABEL_STUDIO_API_KEY"])
    server.check_admin_token(username, os.environ["LABEL_STUDIO_API_KEY"])
    print(f"Label Studio {'is up' if started else 'was already running'} at {redact(server.url)}")
    # the environment wins over .env: name the file only when the password the server got is the file's
    same = read_env().get("LABEL_STUDIO_PASSWORD") == os.environ["LABEL_STUDIO_PASSWORD"]
    where = (
        f"LABEL_STUDIO_PASSWORD in {env_file()}"
        if same
        else "in the environment variable LABEL_STUDIO_PASSWORD"
    )
    refused = server.password_note(username, os.environ["LABEL_STUDIO_PASSWORD"])
    print(f"  {refused}" if refused else f"  log in as {username} with the password {where}")
    print("  then: stance labeling init; stance labeling push ARTICLE...; label; stance labeling pull")
    print("  stop it with: make label-studio-stop")


@app.command()
def stop() -> None:
    """Stop the local Label Studio started by `start`."""
    load_env()
    server = LocalServer.from_env()
    print("stopped Label Studio" if server.stop() else f"no local Label Studio running ({server.pid_file})")


if __name__ == "__main__":
    from stance.runner import guard

    guard(app)
