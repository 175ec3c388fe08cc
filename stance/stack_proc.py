"""Processes, ports and PostgreSQL's binaries for the team stack (:mod:`stance.stack`)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from stance.errors import StanceError


# -- helpers------------------------------------------------------------------------
def _pg_bin(name: str) -> str:
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), key=lambda p: int(p.parts[-3]))
    if found:
        return str(found[-1])
    return shutil.which(name) or name


def _require_postgres() -> None:
    if not Path(_pg_bin("initdb")).is_file():
        raise StanceError("PostgreSQL is not installed (Debian's postgresql package): run `make postgresql`")


def _as_postgres() -> list[str]:
    """PostgreSQL refuses to run as root: as root, its commands run as the postgres user."""
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def _pg(args: list[str], check: bool = False) -> subprocess.CompletedProcess:
    cmd = [*_as_postgres(), _pg_bin(args[0]), *args[1:]]
    return subprocess.run(cmd, capture_output=True, text=True, check=check, stdin=subprocess.DEVNULL)


def _give_to_postgres(*targets: Path) -> None:
    if os.geteuid() == 0:
        for target in targets:
            shutil.chown(target, "postgres", "postgres")
        targets[0].chmod(0o700)


def _port_taken(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _wait_free(port: int, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while _port_taken(port):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.3)
    return True


def _answers(url: str) -> bool:
    import httpx

    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return True


def _listening_port(pid: int) -> int | None:
    """The ``--port`` on process ``pid``'s command line, as the stack starts its servers; or None."""
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return None
    return next(
        (int(v) for flag, v in zip(args, args[1:], strict=False) if flag == "--port" and v.isdigit()), None
    )


def _stop_group(pid: int, timeout: float = 30) -> None:
    os.killpg(pid, signal.SIGTERM)  # started in its own session: its group is its pid
    deadline = time.monotonic() + timeout
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)  # workers left behind, if any
