"""Benchmark: each recipe's training wall time and peak memory on all labeled data.

Each recipe is fitted once on every sentence of the latest dataset (the final fit
that `stance train` does after cross-validation), in a fresh process so peak
memory (max RSS) belongs to that recipe alone. Prints a table with the hardware
and writes benchmarks/results/train_recipes.json, which the README cites.

    .venv/bin/python benchmarks/train_recipes.py [configs/baseline.yaml ...]
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = [
    "configs/hybrid.yaml",
    "configs/baseline.yaml",
    "configs/embedding.yaml",
    "configs/finetune.yaml",
    "configs/fewshot.yaml",
]

CHILD = """
import json, sys, time, resource
import numpy as np
from datasets import concatenate_datasets
from stance.scheme import Scheme
from training import dataset
from training.recipes import load_recipe, make_classifier
scheme = Scheme.load()
dd, meta = dataset.load(None, scheme)
data = concatenate_datasets([dd["train"], dd["test"]])
recipe = load_recipe(sys.argv[1])
t0 = time.perf_counter()
model = make_classifier(recipe, scheme).fit(list(data["text"]), np.array(data["actor"]), np.array(data["stance"]), groups=list(data["article"]))
seconds = time.perf_counter() - t0
print(json.dumps({"seconds": seconds, "sentences": len(data), "data_version": meta["data_version"],
                  "epochs_run": getattr(model, "epochs_run_", None),
                  "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}))
"""


def hardware() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GiB RAM, no GPU used, Python {platform.python_version()}"
    )


def run(recipe: str) -> dict:
    env = os.environ | {"HF_HUB_OFFLINE": "1", "MLFLOW_DISABLE_TELEMETRY": "true", "TQDM_DISABLE": "1"}
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", CHILD, recipe], cwd=ROOT, env=env, capture_output=True, text=True
    )
    wall = time.perf_counter() - t0
    if out.returncode:
        raise SystemExit(f"{recipe} failed:\n{out.stderr[-2000:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    # peak_rss_mib is the child's own max RSS: loading, fitting, everything in that process
    return result | {
        "recipe": recipe,
        "process_seconds": round(wall, 1),
        "fit_seconds": round(result.pop("seconds"), 1),
    }


def main() -> None:
    recipes = sys.argv[1:] or DEFAULT
    out = ROOT / "benchmarks" / "results" / "train_recipes.json"
    # a run of some recipes replaces their rows and keeps the others' (each row says when and under what load)
    kept = json.loads(out.read_text())["results"] if out.exists() else []
    fresh = [
        run(r) | {"measured": time.strftime("%Y-%m-%d"), "load_average_1m": os.getloadavg()[0]}
        for r in recipes
    ]
    results = [r for r in kept if r["recipe"] not in recipes] + fresh
    report = {"hardware": hardware(), "results": results}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"hardware: {report['hardware']}")
    print(f"{'recipe':<28}{'fit s':>8}{'process s':>11}{'peak RSS MiB':>14}{'epochs':>8}")
    for r in results:
        print(
            f"{r['recipe']:<28}{r['fit_seconds']:>8}{r['process_seconds']:>11}{r['peak_rss_mib']:>14}{r['epochs_run'] or '-':>8}"
        )
    print(f"written {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
