"""Benchmark: `stance score-batch --engine spark` (local[*]) against `stance predict`, same sentences, same cores.

Each is run as a user runs it, in a fresh process, twice: on one article (the fixed start-up cost:
process start, model load, for Spark the JVM and its Python workers) and on a large folder (every
corpus, coverage and seed article, copied under new names until it holds ``--sentences``). The
sentence rate is the difference: (big - small sentences) / (big - small seconds), so start-up is
not counted twice. The model is the demo's champion kind (``--kind``, default hybrid: TF-IDF +
frozen MiniLM + actor cues), trained quickly (2 folds) in a scratch store under ``.stance/bench/``;
the user's store is never touched. The machine may be shared: its load average is recorded.

    .venv/bin/python benchmarks/score_batch.py [--sentences 3000] [--kind hybrid]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SCRATCH = ROOT / ".stance" / "bench"
os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{SCRATCH / 'mlflow.db'}"  # never the user's store
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from train_recipes import hardware  # noqa: E402  (this script's folder is on sys.path)

STANCE = str(Path(sys.executable).with_name("stance"))
OUT = ROOT / "benchmarks" / "results" / "score_batch.json"


def model_uri(kind: str) -> str:
    """A registered model of ``kind`` in the scratch store (trained once, then reused)."""
    from mlflow import MlflowClient

    name = f"bench-score-{kind}"
    client = MlflowClient()
    try:
        client.get_model_version_by_alias(name, "champion")
    except Exception:
        recipe = SCRATCH / f"score-{kind}.yaml"
        recipe.write_text(f"kind: {kind}\ncv_folds: 2\n")
        subprocess.run([STANCE, "build-dataset"], check=True, capture_output=True)
        subprocess.run([STANCE, "train", str(recipe), "--registered-model", name], check=True)
    return f"models:/{name}@champion"


def article_folder(target: int) -> tuple[Path, list[Path], int]:
    """Every project article, copied under new names until the folder holds ``target`` sentences."""
    from labeling.articles import read_article
    from labeling.segment import segment

    sources = sorted(
        [*(ROOT / "corpus" / "articles").glob("*.txt"), *(ROOT / "coverage" / "articles").glob("*.txt")]
    )
    sources += sorted((ROOT / "seeds").glob("*.txt"))
    counts = {p: len(segment(read_article(p))) for p in sources}
    folder = SCRATCH / "score-batch-in"
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "articles").mkdir(parents=True)
    files, total, copy = [], 0, 0
    while total < target:
        for p in sources:
            dest = folder / "articles" / f"c{copy:03d}-{p.stem}.txt"
            shutil.copy(p, dest)
            files.append(dest)
            total += counts[p]
            if total >= target:
                break
        copy += 1
    return folder, files, total


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:3])} failed:\n{out.stderr[-2000:]}")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sentences", type=int, default=3000)
    parser.add_argument("--kind", default="hybrid")
    args = parser.parse_args()
    SCRATCH.mkdir(parents=True, exist_ok=True)
    uri = model_uri(args.kind)
    folder, files, n_big = article_folder(args.sentences)
    one = folder.parent / "score-batch-one"
    shutil.rmtree(one, ignore_errors=True)
    (one / "articles").mkdir(parents=True)
    shutil.copy(files[0], one / "articles")
    from labeling.articles import read_article
    from labeling.segment import segment

    n_small = len(segment(read_article(files[0])))
    out = SCRATCH / "score-batch-out"
    results = {}
    runs = {
        "stance predict": lambda inp, fs: [STANCE, "predict", *map(str, fs), "--model", uri, "-f", "csv", "-o", str(out / "p.csv")],
        "score-batch spark local[*]": lambda inp, fs: [STANCE, "score-batch", str(inp), str(out / "s"), "--engine", "spark", "--model", uri, "--overwrite"],
        "score-batch local": lambda inp, fs: [STANCE, "score-batch", str(inp), str(out / "l"), "--model", uri, "--overwrite"],
    }  # fmt: skip
    for name, make in runs.items():
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        small = timed(make(one, [one / "articles" / files[0].name]))
        big = timed(make(folder, files))
        rate = (n_big - n_small) / max(big - small, 1e-9)
        results[name] = {
            "one_article_s": round(small, 2),
            "big_s": round(big, 2),
            "sentences_per_s": round(rate, 1),
            "sentences_per_s_per_core": round(rate / os.cpu_count(), 1),
        }
        print(
            f"{name:30s} one article {small:6.1f} s   {n_big} sentences {big:6.1f} s   {rate:7.1f} sentences/s",
            flush=True,
        )
    report = {
        "model_kind": args.kind,
        "sentences": n_big,
        "articles": len(files),
        "one_article_sentences": n_small,
        "cores": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "hardware": hardware(),
        "results": results,
        "note": "fixed start-up cost ~ one_article_s; rate from the difference of the two runs",
    }
    OUT.write_text(json.dumps(report, indent=2) + "\n")
    print(f"hardware: {report['hardware']}; load average {report['load_average'][0]:.2f}")
    print(f"-> {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
