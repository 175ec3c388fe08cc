"""The environments are the ones the tests passed with: `make env` and `make ls-env` install under
`constraints/`, a pip freeze of environments that passed `make test`. A fresh resolve once took
sentry-sdk 3.0.0 into `.ls-venv`, which Label Studio 1.23.2 cannot start with, and CI went red."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name as canonical

from tests.conftest import REPO


def pins(name: str) -> dict[str, str]:
    lines = (REPO / "constraints" / name).read_text().splitlines()
    found = (re.fullmatch(r"([A-Za-z0-9_.-]+)==(\S+)", line.strip()) for line in lines)
    return {canonical(m[1]): m[2] for m in found if m}


def installed(python: Path) -> dict[str, str]:
    out = subprocess.run(
        [str(python), "-m", "pip", "list", "--format=freeze", "--disable-pip-version-check"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return {canonical(n): v for n, v in (line.split("==", 1) for line in out.splitlines() if "==" in line)}


@pytest.mark.parametrize(
    "constraints, python",
    [("project.txt", Path(sys.executable)), ("label-studio.txt", REPO / ".ls-venv" / "bin" / "python")],
)
def test_each_environment_holds_the_versions_its_constraints_pin(constraints, python):
    if not python.is_file():
        pytest.fail(f"{python.parent.parent} is not built: run `make env ls-env`")
    pinned, have = pins(constraints), installed(python)
    differ = {n: f"{have.get(n, 'not')} installed, {v} pinned" for n, v in pinned.items() if have.get(n) != v}
    assert not differ, (
        f"changed by hand? rebuild it, or put the new pins in constraints/{constraints}: {differ}"
    )


def test_every_pip_install_in_the_makefile_is_constrained():
    makefile = (REPO / "Makefile").read_text()
    installs = [line for line in makefile.splitlines() if re.search(r"\bpip install\b", line)]
    assert installs and all(re.search(r" -c constraints/[\w-]+\.txt ", line) for line in installs), installs
