"""Benchmark: the packaged encoders' load time and frozen-embedding speed on this machine.

For each packaged base model, in a fresh process (HF_HUB_OFFLINE=1): the time to
resolve and load it (tokenizer + model), and sentences per second when embedding
the labeled sentences (mean-pooled, batch 64, max 128 tokens, as the embedding and
hybrid recipes do), after one warm-up batch. Writes benchmarks/results/encoders.json.

    .venv/bin/python benchmarks/encoders.py
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

from train_recipes import hardware  # this script's folder is on sys.path

ROOT = Path(__file__).resolve().parents[1]
MODELS = ["packaged:all-MiniLM-L6-v2", "packaged:all-mpnet-base-v2"]

CHILD = """
import json, sys, time
t0 = time.perf_counter()
from training.models import encoder
encoder.set_threads()
import torch, transformers
t1 = time.perf_counter()
tok, model = encoder.load(sys.argv[1])
load_s = time.perf_counter() - t1
from labeling.snapshot import latest_snapshot
from stance.io import read_jsonl
texts = [row["text"] for _, row in read_jsonl(latest_snapshot())]
encoder.embed(texts[:64], tok, model)
t2 = time.perf_counter()
x = encoder.embed(texts, tok, model)
enc_s = time.perf_counter() - t2
print(json.dumps({"base_model": sys.argv[1], "load_seconds": round(load_s, 2),
  "sentences": len(texts), "encode_seconds": round(enc_s, 2),
  "sentences_per_second": round(len(texts) / enc_s, 1), "dimensions": int(x.shape[1]),
  "threads": torch.get_num_threads()}))
"""


def main() -> None:
    env = os.environ | {"HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    results = []
    for name in MODELS:
        out = subprocess.run(
            [sys.executable, "-c", CHILD, name], cwd=ROOT, env=env, capture_output=True, text=True, check=True
        )
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(results[-1], flush=True)
    host = {
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "hardware": hardware(),
    }
    print(f"hardware: {host['hardware']}")
    path = ROOT / "benchmarks" / "results" / "encoders.json"
    path.write_text(json.dumps({"host": host, "results": results}, indent=2) + "\n")
    print(f"-> {path}")


if __name__ == "__main__":
    main()
