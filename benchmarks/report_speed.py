"""Benchmark: building the coverage report, beyond scoring, over the 181 coverage articles.

Scores the articles once with the champion (`stance predict -f jsonl`, timed apart), then
times `stance report` on those predictions: reading, aggregating, plotting, the HTML and
its CSV/JSON. Prints the figures with the hardware and writes
benchmarks/results/report_speed.json, which the README cites.

    .venv/bin/python benchmarks/report_speed.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STANCE = str(Path(sys.executable).parent / "stance")


def cpu_name() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def timed(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    articles = sorted((ROOT / "coverage" / "articles").glob("*.txt"))
    with tempfile.TemporaryDirectory() as tmp:
        preds = Path(tmp) / "predictions.jsonl"
        scoring = timed([STANCE, "predict", *map(str, articles), "-f", "jsonl", "-o", str(preds)])
        sentences = sum(1 for line in preds.open() if '"kind": "sentence"' in line)
        meta = str(ROOT / "coverage" / "articles.tsv")
        report = [
            timed([STANCE, "report", str(preds), "--meta", meta, "--out", f"{tmp}/r{i}", "--by", by])
            for i in range(args.repeat)
            for by in ("month", "week")
        ]
        html_bytes = (Path(tmp) / "r0" / "report.html").stat().st_size
    result = {
        "hardware": f"{cpu_name()}, {os.cpu_count()} cores, no GPU",
        "articles": len(articles),
        "sentences": sentences,
        "scoring_s (stance predict, champion, process included)": round(scoring, 1),
        "report_s (stance report on the predictions, process included; best of runs)": round(min(report), 2),
        "report_s_all_runs": [round(x, 2) for x in report],
        "report_html_bytes": html_bytes,
    }
    out = ROOT / "benchmarks" / "results" / "report_speed.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    for k, v in result.items():
        print(f"{k}: {v}")
    print(f"-> {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
