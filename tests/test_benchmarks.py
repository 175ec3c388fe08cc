"""The benchmark scripts under benchmarks/, run as a user runs them, on the scratch copy."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_a_benchmark_of_some_recipes_keeps_the_others_rows_with_their_own_hardware(scratch_root, built):
    """`benchmarks/train_recipes.py configs/baseline.yaml` keeps the other recipes' rows; the file's one
    `hardware` was this machine's, so rows measured elsewhere (and on other data) read as measured here."""
    folder = scratch_root / "benchmarks"
    (folder / "results").mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "benchmarks" / "train_recipes.py", folder)
    # a results file as written before rows carried their hardware: one for the file, rows on other data
    elsewhere = "another machine (Intel(R) Xeon(R) Processor, 2 cores)"  # never this one
    row = {"sentences": 408, "data_version": "b18cd89cc529", "epochs_run": None, "peak_rss_mib": 740,
           "process_seconds": 12.1, "fit_seconds": 9.9, "measured": "2026-11-23"}  # fmt: skip
    earlier = {
        "hardware": elsewhere,
        "results": [row | {"recipe": "configs/hybrid.yaml"}, row | {"recipe": "configs/baseline.yaml"}],
    }
    (folder / "results" / "train_recipes.json").write_text(json.dumps(earlier))
    out = subprocess.run(
        [sys.executable, str(folder / "train_recipes.py"), "configs/baseline.yaml"],
        capture_output=True, text=True, env=os.environ | {"PYTHONPATH": str(REPO)}, timeout=600,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    sys.path.insert(0, str(folder))
    try:
        from train_recipes import hardware
    finally:
        sys.path.remove(str(folder))
    here = hardware()
    rows = {
        r["recipe"]: r for r in json.loads((folder / "results" / "train_recipes.json").read_text())["results"]
    }
    assert rows["configs/hybrid.yaml"]["hardware"] == elsewhere  # kept as measured
    assert rows["configs/hybrid.yaml"]["sentences"] == 408
    assert rows["configs/baseline.yaml"]["hardware"] == here
    assert rows["configs/baseline.yaml"]["sentences"] == len(built[0]["train"]) + len(built[0]["test"])
    lines = out.stdout.splitlines()
    assert lines[0] == f"hardware: {here}"
    hybrid = next(line for line in lines if line.startswith("configs/hybrid.yaml"))
    assert hybrid.split()[1] == "408" and hybrid.endswith(f"2026-11-23 on {elsewhere}")
    baseline = next(line for line in lines if line.startswith("configs/baseline.yaml"))
    assert baseline.endswith(" here")
