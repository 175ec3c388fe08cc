"""The whole main job through the console script, in a fresh root with its own MLflow store."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import DATA_DIRS, REPO

pytestmark = pytest.mark.slow


def test_import_build_train_predict_from_scratch(tmp_path):
    root = tmp_path / "project"
    for d in DATA_DIRS:
        shutil.copytree(REPO / d, root / d)
    shutil.rmtree(root / "labeling" / "snapshots")  # start from raw annotations only
    env = os.environ | {"STANCE_ROOT": str(root), "MLFLOW_TRACKING_URI": f"sqlite:///{root / 'mlflow.db'}"}
    stance = str(Path(sys.executable).with_name("stance"))

    def step(*args):
        out = subprocess.run([stance, *args], capture_output=True, env=env, cwd=tmp_path, timeout=600)
        assert out.returncode == 0, out.stderr.decode()[-2000:]
        return out.stdout.decode()

    imported = step("import-annotations")
    committed = (REPO / "labeling" / "snapshots" / "LATEST").read_text().strip()  # what the raw files give
    assert f"data version {committed.removeprefix('annotations-').removesuffix('.jsonl')}" in " ".join(
        imported.split()
    )
    assert "written" in imported
    assert "unchanged" in step("import-annotations")  # re-running duplicates nothing
    assert "built" in step("build-dataset")
    trained = step("train", "configs/baseline.yaml")
    assert "is champion: there is no champion yet" in trained
    assert re.search(
        r"time split \(\d+ newest articles, \d+ sentences\): stance macro-F1 0\.\d{3} \[", trained
    )
    assert "identical run exists" in step("train", "configs/baseline.yaml")
    rows = [json.loads(x) for x in step("predict", str(root / "corpus/articles/corpus-010.txt")).splitlines()]
    assert rows[-1]["kind"] == "profile" and rows[-1]["article"] == "corpus-010"
    assert rows[-1]["sentences"] == len(rows) - 1
    # everything landed under the project root, nothing in the caller's directory
    assert (root / "mlflow.db").is_file() and (root / "mlruns").is_dir()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["project"]
