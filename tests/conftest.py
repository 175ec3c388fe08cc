"""Every test works in a scratch copy of the project's data and a scratch MLflow store.

The real checkout's mlflow.db, .stance/ and snapshots are never written by tests.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ADMIN, PASSWORD = "admin@stance.local", secrets.token_urlsafe(12)  # the test Label Studio's admin
TOKEN = secrets.token_hex(20)
# secrets of other parts a shell may hold when it starts Label Studio, which it needs none of
SHELL_SECRETS = (
    "STANCE_ANNOTATOR_PASSWORD",
    "STANCE_STACK_DB_PASSWORD",
    "MLFLOW_TRACKING_PASSWORD",
    "HF_TOKEN",
)
DATA_DIRS = ("configs", "seeds", "corpus", "coverage", "labeling/raw", "labeling/snapshots")


@pytest.fixture(scope="session", autouse=True)
def scratch_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("stance-root")
    for d in DATA_DIRS:
        shutil.copytree(REPO / d, root / d)
    env = {
        "STANCE_ROOT": str(root),
        "MLFLOW_TRACKING_URI": f"sqlite:///{root / 'mlflow.db'}",
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "HF_HUB_OFFLINE": "1",
    }
    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)
        yield root


@pytest.fixture(scope="session")
def scheme():
    from stance.scheme import Scheme

    return Scheme.load()


@pytest.fixture(scope="session")
def built(scratch_root, scheme):
    """The dataset of the committed snapshot: (DatasetDict, meta)."""
    from labeling.snapshot import latest_snapshot
    from training import dataset

    version, _, _ = dataset.save(latest_snapshot(), scheme)
    return dataset.load(version, scheme)


@pytest.fixture(scope="session")
def trained(scratch_root, built):
    """A baseline trained for real (3 folds) and registered as champion in the scratch store."""
    from training.train import train

    recipe = scratch_root / "configs" / "test-baseline.yaml"
    recipe.write_text("kind: baseline\ncv_folds: 3  # fewer folds: faster tests\n")
    return train(recipe, quiet=True)


def fit_hybrid(built, scheme, rows: int, **options):
    """A hybrid (MiniLM) with recipe ``options``, fitted on the first ``rows`` training sentences of
    the built dataset with their articles and dates (what the ``fit`` options choose on)."""
    import numpy as np

    from training.recipes import KINDS, make_classifier

    tiny = built[0]["train"].select(range(rows))
    recipe = KINDS["hybrid"][0](kind="hybrid", **options)
    return make_classifier(recipe, scheme).fit(
        tiny["text"], np.array(tiny["actor"]), np.array(tiny["stance"]), groups=tiny["article"],
        dates=list(tiny["date"]),
    )  # fmt: skip


PROBE = ["Pakistan urged the Afghan Taliban to act against the TTP.", "Qatar hosted the talks in Doha."]


def set_and_reload(model, folder: Path, attribute: str, value, facet: int):
    """``model`` with a fitted ``attribute`` set to ``value``, saved and loaded again: (its
    probabilities of ``facet`` (0 actor, 1 stance) on PROBE before saving, the loaded model), so a
    test can ask that the served model decides as the evaluated one."""
    from training.recipes import load_classifier

    setattr(model, attribute, value)
    before = model.predict_proba(PROBE)[facet]
    model.save(folder)
    again = load_classifier(folder)
    assert getattr(again, attribute) == value
    return before, again


def run_cli(*args: str, stdin: bytes | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """The console script as a user runs it (same environment as the tests)."""
    return subprocess.run(
        [str(Path(sys.executable).with_name("stance")), *args],
        input=stdin,
        capture_output=True,
        cwd=cwd,
        env=os.environ.copy(),
        timeout=300,
    )


TINY_SPEC = """\
name: tiny
description: two baseline runs a hair apart, 3 folds, for the experiment tests
registered_model: tiny-classifier
runs:
  - recipe: baseline
    overrides:
      cv_folds: {value: 3, reason: "fewer folds: faster tests"}
  - recipe: baseline
    name: baseline-c3
    overrides:
      cv_folds: {value: 3, reason: "fewer folds: faster tests"}
      C: {value: 3.0, reason: "a little more regularisation: a near-equal rival"}
"""


@pytest.fixture(scope="session")
def tiny_experiment(scratch_root, built):
    """A two-run spec run for real (baseline, 3 folds): (spec path, results of the run)."""
    from training.experiments import load_plan, run_plan

    spec = scratch_root / "experiments" / "tiny.yaml"
    spec.parent.mkdir(exist_ok=True)
    spec.write_text(TINY_SPEC)
    return spec, run_plan(load_plan(spec), quiet=True)


@pytest.fixture(scope="session")
def older_version(scratch_root, built, scheme):
    """A second data version: the committed snapshot less one article, one sentence relabeled.

    Returns (version, dropped sentence ids, relabeled sentence id). The latest dataset is unchanged.
    """
    import json

    from labeling.snapshot import content_hash, latest_snapshot
    from stance.io import write_atomic
    from training import dataset

    rows = [json.loads(line) for line in latest_snapshot().read_text().splitlines()]
    dropped_article = rows[0]["article"]
    kept = [r for r in rows if r["article"] != dropped_article]
    relabeled = next(r for r in kept if r["pairs"] == [])
    relabeled["pairs"] = [{"actor": "pakistan", "stance": "demand"}]
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in kept)
    path = scratch_root / "labeling" / "snapshots" / f"annotations-{content_hash(text)}.jsonl"
    write_atomic(path, text)
    version, _, _ = dataset.save(path, scheme, latest=False)
    dropped = [r["sentence_id"] for r in rows if r["article"] == dropped_article]
    return version, dropped, relabeled["sentence_id"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def server(tmp_path_factory, scratch_root):
    """One real Label Studio (from .ls-venv) per test session, on a free loopback port."""
    from stance.server import LocalServer, ls_venv

    if not (ls_venv() / "bin" / "label-studio").is_file():
        pytest.fail("Label Studio is not installed: run `make ls-env`")
    local = LocalServer(f"http://127.0.0.1:{free_port()}", tmp_path_factory.mktemp("label-studio"))
    with pytest.MonkeyPatch.context() as mp:
        for name in SHELL_SECRETS:  # as a team member's shell has them when it starts the server
            mp.setenv(name, f"not-for-label-studio-{secrets.token_hex(4)}")
        local.start(ADMIN, PASSWORD, TOKEN)
        mp.setenv("LABEL_STUDIO_URL", local.url)
        mp.setenv("LABEL_STUDIO_API_KEY", TOKEN)
        mp.delenv("LABEL_STUDIO_PROJECT", raising=False)
        yield local
    local.stop()


@pytest.fixture(scope="session")
def studio(server):
    from labeling.studio import Studio

    return Studio.connect(server.url, TOKEN)


@contextmanager
def renamed_actor(root: Path):
    """The project's scheme with one actor renamed (ttp -> tehrik) while the block runs."""
    scheme_file = root / "configs" / "scheme.yaml"
    original = scheme_file.read_text()
    try:
        scheme_file.write_text(original.replace("  ttp: >-", "  tehrik: >-"))
        yield
    finally:
        scheme_file.write_text(original)
