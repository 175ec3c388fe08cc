"""Benchmark: each recipe's training wall time and peak memory on all labeled data.

Each recipe is fitted once on every sentence of the latest dataset (the final fit
that `stance train` does after cross-validation), in a fresh process so peak
memory (max RSS) belongs to that recipe alone. Prints a table with the hardware
and writes benchmarks/results/train_recipes.json, which docs/results.md cites; a run of
some recipes keeps the other rows, each with the hardware and data size it was measured on.

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
    "configs/hybrid-mpnet-broker-mean-parse.yaml",  # make demo's recipe, the champion
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


def merged(earlier: dict | None, fresh: list[dict]) -> dict:
    """The results file after a run: the fresh rows, and every other recipe's earlier row as it was.

    Each row names the hardware it was measured on: a run of some recipes on another machine must
    not relabel the rows it keeps (rows written before rows carried it take the file's own).
    """
    earlier = earlier or {}
    recipes = {r["recipe"] for r in fresh}
    inherited = {"hardware": earlier["hardware"]} if "hardware" in earlier else {}
    kept = [inherited | r for r in earlier.get("results", []) if r["recipe"] not in recipes]
    return {"results": kept + fresh}


def table(report: dict, here: str) -> list[str]:
    """The printed table: each row's data size, and where it was measured when not on this machine."""
    wide = max(28, *(len(r["recipe"]) + 2 for r in report["results"]))
    lines = [
        f"{'recipe':<{wide}}{'sentences':>10}{'fit s':>8}{'process s':>11}{'peak RSS MiB':>14}{'epochs':>8}  measured"
    ]
    for r in report["results"]:
        where = "here" if r.get("hardware") == here else f"on {r.get('hardware', 'unknown hardware')}"
        lines.append(
            f"{r['recipe']:<{wide}}{r['sentences']:>10}{r['fit_seconds']:>8}{r['process_seconds']:>11}"
            f"{r['peak_rss_mib']:>14}{r['epochs_run'] or '-':>8}  {r.get('measured', '')} {where}".rstrip()
        )
    return lines


def main() -> None:
    recipes = sys.argv[1:] or DEFAULT
    out = ROOT / "benchmarks" / "results" / "train_recipes.json"
    here = hardware()
    fresh = [
        run(r)
        | {"measured": time.strftime("%Y-%m-%d"), "load_average_1m": os.getloadavg()[0], "hardware": here}
        for r in recipes
    ]
    report = merged(json.loads(out.read_text()) if out.exists() else None, fresh)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"hardware: {here}")
    print("\n".join(table(report, here)))
    print(f"written {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
