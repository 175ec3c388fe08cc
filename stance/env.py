"""The project's ``.env`` and the secrets in the environment: read, loaded, made on a first start,
and kept from the servers the project starts but those each one needs.

Apart from ``stance/server.py`` (the local Label Studio process): the team stack
(``stance/stack.py``), the Label Studio client and the ML backend read the same ``.env`` without
starting a server.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from pathlib import Path

from stance import paths
from stance.errors import StanceError
from stance.io import write_atomic

DEFAULT_USERNAME = "admin@stance.local"

# A variable named as a secret: a password, a token, an API key. A server the project starts gets the
# secrets it needs only (Label Studio its own LABEL_STUDIO_ and database POSTGRE_ settings; the
# stack's MLflow its database password): each ran with every secret of the shell that started it
# (an annotator's password, the stack's database password, MLflow credentials), readable in /proc
# by the server's user and carried into whatever the server runs.
SECRET_NAME = re.compile(r"(^|_)(PASSWORD|PASSWD|TOKEN|SECRET|API_?KEY)(_|$)")


def without_secrets(keep: tuple[str, ...] = ()) -> dict[str, str]:
    """The caller's environment less every variable named as a secret, but those starting with ``keep``."""
    return {k: v for k, v in os.environ.items() if k.startswith(keep) or not SECRET_NAME.search(k)}


def env_file() -> Path:
    return paths.root() / ".env"


def read_env(path: Path | None = None) -> dict[str, str]:
    """The ``KEY=VALUE`` lines of ``.env`` (none when there is no such file)."""
    path = path or env_file()
    if not path.is_file():
        return {}
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.removeprefix("export ").split("=", 1)
        found[key.strip()] = value.strip().strip("'\"")
    return found


def load_env(path: Path | None = None) -> None:
    """``KEY=VALUE`` lines of ``.env`` into the environment; variables already set win.

    The file holds the secrets: one others can read (copied from ``.env.example``, which is theirs
    to read) is made the owner's only, as the ``.env`` the first start writes is."""
    path = path or env_file()
    if path.is_file() and path.stat().st_mode & 0o077:
        with contextlib.suppress(PermissionError):  # another user's file: theirs to tighten
            path.chmod(0o600)
    for key, value in read_env(path).items():
        os.environ.setdefault(key, value)


def ensure_secrets(path: Path | None = None) -> bool:
    """Give the local server an admin password and API token: from the environment, else a new ``.env``.

    Returns True when it wrote new secrets to ``.env`` (git-ignored, readable by the owner only).
    """
    path = path or env_file()
    load_env(path)
    check_token(os.environ.get("LABEL_STUDIO_API_KEY", ""))
    missing = [k for k in ("LABEL_STUDIO_PASSWORD", "LABEL_STUDIO_API_KEY") if not os.environ.get(k)]
    if not missing:
        return False
    new = {
        "LABEL_STUDIO_USERNAME": os.environ.get("LABEL_STUDIO_USERNAME", DEFAULT_USERNAME),
        "LABEL_STUDIO_PASSWORD": os.environ.get("LABEL_STUDIO_PASSWORD") or secrets.token_urlsafe(12),
        "LABEL_STUDIO_API_KEY": os.environ.get("LABEL_STUDIO_API_KEY") or secrets.token_hex(20),
    }
    old = path.read_text(encoding="utf-8") if path.is_file() else ""
    lines = [line for line in old.splitlines() if line.split("=", 1)[0].strip() not in new]
    text = "\n".join([*lines, *(f"{k}={v}" for k, v in new.items())]) + "\n"
    write_atomic(path, text, mode=0o600)
    os.environ.update(new)
    return True


# Label Studio gives its admin the fixed token only when it is longer than 5 characters; a shorter
# one it does not apply (every command then gets HTTP 401) and prints, in full, into its log.
MIN_TOKEN_LENGTH = 6


def check_token(token: str) -> None:
    """Refuse, before any server starts, a token Label Studio would not apply (an empty one is made)."""
    if 0 < len(token) < MIN_TOKEN_LENGTH:
        raise StanceError(
            f"LABEL_STUDIO_API_KEY has {len(token)} characters: Label Studio applies a token of "
            f"{MIN_TOKEN_LENGTH} or more (a shorter one it refuses, and writes into its log); set a longer "
            f"one, or remove it from the environment and {env_file()} to have one made"
        )
